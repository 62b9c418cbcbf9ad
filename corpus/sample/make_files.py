"""Generate the DOCX/PDF samples of the sample batch (and the deliberately corrupt PDF).

Run from the repository root:  .venv/bin/python corpus/sample/make_files.py
Needs python-docx and fpdf2. Output is deterministic apart from file timestamps inside the
containers; the generated files are committed so tests need neither library to write them.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
BATCH = HERE / "batch"

DOCX_PROPOSAL = {
    "meta": [
        ("Judul", "SEHAT SOPIR: Pemeriksaan Kesehatan Pengemudi Angkutan Umum di Terminal"),
        ("Instansi", "Pemerintah Kota Madiun"),
        ("Klaster", "kota"),
        ("Wilayah", "Kota Madiun, Provinsi Jawa Timur"),
        ("Tahun", "2025"),
        ("Tahun Implementasi", "2022"),
        ("Video", "https://www.youtube.com/watch?v=sample2519"),
        ("SK", "SK Wali Kota Madiun Nomor 400.7/219/401.012/2022"),
        ("ID", "usulan-2025-19"),
    ],
    "sections": [
        (
            "1. Ringkasan",
            [
                "SEHAT SOPIR adalah pos pemeriksaan kesehatan bagi pengemudi bus, angkutan kota, dan travel "
                "di Terminal Purboyo Kota Madiun. Sebelum berangkat, pengemudi diperiksa tekanan darah, kadar "
                "alkohol napas, gula darah sewaktu, dan tingkat kelelahannya oleh petugas puskesmas. Pengemudi "
                "yang dinyatakan tidak layak diminta beristirahat dan perusahaan otobus wajib menyiapkan "
                "pengemudi pengganti. Sejak 2022 lebih dari 21.000 pemeriksaan dilakukan dan kecelakaan bus "
                "yang berangkat dari Terminal Purboyo turun 41 persen.",
            ],
        ),
        (
            "2. Latar Belakang dan Tujuan",
            [
                "Kota Madiun dilintasi jalur utama Jawa Timur menuju Jawa Tengah, dan Terminal Purboyo "
                "memberangkatkan sekitar 600 bus setiap hari. Investigasi kecelakaan pada 2021 menunjukkan "
                "bahwa kelelahan dan penyakit tidak menular yang tidak terkontrol, terutama hipertensi, menjadi "
                "penyebab penting kecelakaan bus antarkota. Banyak pengemudi bekerja lebih dari 12 jam sehari "
                "dan tidak pernah memeriksakan kesehatannya karena takut kehilangan setoran.",
                "Tujuan inovasi adalah mencegah kecelakaan akibat kondisi pengemudi yang tidak layak, "
                "menemukan penyakit tidak menular sejak dini pada kelompok pekerja transportasi, dan "
                "membangun budaya keselamatan di perusahaan otobus.",
            ],
        ),
        (
            "3. Kebaruan / Nilai Tambah",
            [
                "Pemeriksaan kesehatan pengemudi sebelumnya hanya dilakukan menjelang musim mudik. SEHAT SOPIR "
                "menjadikannya layanan harian yang terintegrasi dengan proses keberangkatan: surat layak jalan "
                "dari pos kesehatan menjadi syarat pengawas terminal memberikan izin berangkat. Hasil "
                "pemeriksaan dicatat dalam kartu kesehatan pengemudi sehingga riwayat tekanan darah dapat "
                "dipantau dari waktu ke waktu, dan pengemudi dengan hasil berulang di atas batas dirujuk ke "
                "puskesmas untuk pengobatan tanpa biaya.",
            ],
        ),
        (
            "4. Implementasi",
            [
                "Pos dibuka pada Maret 2022 dengan jam layanan pukul 04.00 sampai 22.00. Dinas Kesehatan "
                "menempatkan perawat dan petugas dari Puskesmas Banjarejo secara bergiliran, sedangkan Dinas "
                "Perhubungan menyusun prosedur bersama pengawas terminal. Perusahaan otobus disosialisasikan "
                "melalui forum lalu lintas, dan sejak Januari 2023 pemeriksaan berlaku untuk seluruh "
                "keberangkatan bus antarkota dari Terminal Purboyo.",
            ],
        ),
        (
            "5. Signifikansi",
            [
                "Sebanyak 21.480 pemeriksaan telah dilakukan hingga Desember 2024. Sebanyak 1.126 pengemudi "
                "diminta beristirahat atau diganti karena tekanan darah sangat tinggi, kadar alkohol positif, "
                "atau kelelahan berat. Kecelakaan yang melibatkan bus dari Terminal Purboyo turun dari 34 "
                "kejadian pada 2021 menjadi 20 kejadian pada 2024. Sebanyak 612 pengemudi kini rutin "
                "berobat hipertensi di puskesmas.",
            ],
        ),
        (
            "6. Adaptabilitas",
            [
                "Pos kesehatan pengemudi dapat dibuka di terminal tipe A dan B di kota lain dengan "
                "memanfaatkan tenaga puskesmas terdekat dan peralatan sederhana. Dinas Perhubungan Kota "
                "Kediri telah meninjau prosedur SEHAT SOPIR untuk diterapkan di Terminal Tamanan.",
            ],
        ),
        (
            "7. Sumber Daya",
            [
                "Pelaksana terdiri dari 12 perawat dan petugas kesehatan, enam pengawas terminal, dan satu "
                "dokter penanggung jawab. Anggaran APBD sekitar Rp310 juta per tahun digunakan untuk alat "
                "pemeriksaan, bahan habis pakai, dan honor jaga malam. Ruang pos disediakan pengelola terminal.",
            ],
        ),
        (
            "8. Strategi Keberlanjutan",
            [
                "Pemeriksaan kesehatan pengemudi telah diatur dalam Peraturan Wali Kota tentang keselamatan "
                "angkutan umum di terminal, dan biaya operasional masuk dalam anggaran rutin Dinas Kesehatan. "
                "Asosiasi perusahaan otobus menyepakati kewajiban menyediakan pengemudi cadangan.",
            ],
        ),
        (
            "9. Keterlibatan Pemangku Kepentingan",
            [
                "Pemangku kepentingan meliputi Dinas Kesehatan, Dinas Perhubungan, pengelola Terminal Purboyo, "
                "Satlantas Polres Madiun Kota, perusahaan otobus, paguyuban sopir angkutan kota, dan BPJS "
                "Kesehatan.",
            ],
        ),
    ],
}

PDF_PROPOSAL = {
    "meta": [
        ("Judul", "Sekolah Sungai Tabalong: Pelajar Menjaga Sungai"),
        ("Instansi", "Pemerintah Kabupaten Tabalong"),
        ("Klaster", "kabupaten"),
        ("Wilayah", "Kabupaten Tabalong, Provinsi Kalimantan Selatan"),
        ("Tahun", "2025"),
        ("Tahun Implementasi", "2023"),
        ("Video", "https://www.youtube.com/watch?v=sample2520"),
        ("SK", "SK Bupati Tabalong Nomor 188.45/371/2023"),
        ("ID", "usulan-2025-20"),
    ],
    "sections": [
        (
            "1. Ringkasan",
            [
                "Sekolah Sungai Tabalong adalah program pendidikan lingkungan yang menjadikan Sungai Tabalong "
                "sebagai ruang kelas bagi siswa SMP dan SMA. Siswa belajar mengukur kualitas air dengan alat "
                "uji sederhana, memetakan titik pembuangan sampah, dan menanam pohon rambai di bantaran. Data "
                "pengamatan siswa dikirim ke Dinas Lingkungan Hidup untuk ditindaklanjuti. Sejak 2023 sebanyak "
                "2.300 siswa dari 27 sekolah terlibat, dan 41 titik pembuangan sampah liar telah ditutup.",
            ],
        ),
        (
            "2. Latar Belakang dan Tujuan",
            [
                "Sungai Tabalong menjadi sumber air baku bagi perusahaan daerah air minum dan tempat hidup "
                "warga di Tanjung, Murung Pudak, dan Kelua. Pemantauan kualitas air oleh dinas hanya dilakukan "
                "dua kali setahun di empat titik, sehingga pencemaran dari sampah rumah tangga dan limbah "
                "usaha kecil sering terlambat diketahui. Generasi muda pun semakin jarang berinteraksi dengan "
                "sungai.",
                "Program bertujuan memperluas pemantauan kualitas sungai dengan melibatkan pelajar, menumbuhkan "
                "kepedulian generasi muda terhadap sungai, dan mempercepat tindak lanjut atas pencemaran.",
            ],
        ),
        (
            "3. Kebaruan / Nilai Tambah",
            [
                "Pelajar tidak hanya menjadi peserta sosialisasi, tetapi menjadi pemantau sungai yang datanya "
                "dipakai pemerintah. Setiap sekolah mengadopsi satu ruas sungai sepanjang satu kilometer dan "
                "melaporkan hasil uji air setiap bulan melalui formulir daring. Materi pengukuran dimasukkan "
                "ke dalam projek penguatan profil pelajar sehingga menjadi bagian dari kegiatan belajar resmi.",
            ],
        ),
        (
            "4. Implementasi",
            [
                "Program dimulai Agustus 2023 di delapan sekolah percontohan, kemudian diperluas ke 27 sekolah "
                "pada 2024. Dinas Lingkungan Hidup melatih 54 guru pendamping, membagikan alat uji kualitas "
                "air, dan menyusun peta ruas adopsi. Laporan siswa diverifikasi petugas dalam tujuh hari, dan "
                "titik pencemaran yang ditemukan diteruskan kepada camat dan satuan polisi pamong praja.",
            ],
        ),
        (
            "5. Signifikansi",
            [
                "Titik pemantauan kualitas air bertambah dari empat menjadi 27 ruas dengan frekuensi bulanan. "
                "Sebanyak 41 titik pembuangan sampah liar ditutup dan 3.800 bibit pohon ditanam di bantaran. "
                "Hasil uji menunjukkan penurunan kekeruhan di enam ruas hilir. Survei sekolah mencatat 86 "
                "persen siswa peserta merasa lebih peduli terhadap sungai.",
            ],
        ),
        (
            "6. Adaptabilitas",
            [
                "Sekolah Sungai dapat diterapkan di kabupaten lain yang dilalui sungai, karena alat uji murah "
                "dan kegiatan dapat dipadukan dengan kurikulum sekolah. Kabupaten Balangan telah meminta modul "
                "pelatihan guru pendamping. Panduan pemantauan dan format laporan dibagikan terbuka kepada "
                "daerah yang ingin menirunya.",
            ],
        ),
        (
            "7. Sumber Daya",
            [
                "Pelaksana terdiri dari staf Dinas Lingkungan Hidup, 54 guru pendamping, dan relawan komunitas "
                "sungai. Anggaran APBD sebesar Rp280 juta per tahun digunakan untuk alat uji, bibit, dan "
                "pelatihan, ditambah dukungan perusahaan tambang melalui program tanggung jawab sosial.",
            ],
        ),
        (
            "8. Strategi Keberlanjutan",
            [
                "Program ditetapkan dalam Peraturan Bupati tentang pendidikan lingkungan hidup berbasis sungai, "
                "dan Dinas Pendidikan menjadikan pemantauan sungai sebagai pilihan projek tahunan sekolah. "
                "Alumni Sekolah Sungai membentuk komunitas yang membina adik kelas.",
            ],
        ),
        (
            "9. Keterlibatan Pemangku Kepentingan",
            [
                "Pemangku kepentingan meliputi Dinas Lingkungan Hidup, Dinas Pendidikan, sekolah, camat, "
                "satuan polisi pamong praja, perusahaan daerah air minum, komunitas peduli sungai, dan "
                "perusahaan swasta di Tabalong. Kelurahan di bantaran menyediakan tempat pertemuan dan ikut "
                "mengawasi titik pembuangan sampah.",
            ],
        ),
    ],
}


def write_docx(p: dict, path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.core_properties.author = "saring sample"
    for label, value in p["meta"]:
        doc.add_paragraph(f"{label}: {value}")
    for heading, paras in p["sections"]:
        doc.add_heading(heading, level=2)
        for para in paras:
            doc.add_paragraph(para)
    doc.save(str(path))


def write_pdf(p: dict, path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(__import__("datetime").datetime(2025, 3, 1, tzinfo=__import__("datetime").timezone.utc))
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for label, value in p["meta"]:
        pdf.multi_cell(0, 5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    for heading, paras in p["sections"]:
        pdf.ln(3)
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=10)
        for para in paras:
            pdf.multi_cell(0, 5, para, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    pdf.output(str(path))


def write_corrupt_pdf(path: Path) -> None:
    """A PDF header followed by truncated garbage: readers must report an error for this file."""
    body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pa"
    garbage = bytes((i * 73 + 41) % 256 for i in range(700))
    path.write_bytes(body + garbage)


def main() -> None:
    BATCH.mkdir(parents=True, exist_ok=True)
    write_docx(DOCX_PROPOSAL, BATCH / "kota-contoh-inovasi.docx")
    write_pdf(PDF_PROPOSAL, BATCH / "kabupaten-contoh-inovasi.pdf")
    write_corrupt_pdf(BATCH / "rusak.pdf")
    print("wrote", *sorted(p.name for p in BATCH.iterdir() if p.suffix in {".docx", ".pdf"}))


if __name__ == "__main__":
    main()
