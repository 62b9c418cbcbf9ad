"""`python -m eval ...`: the same commands as `saring eval ...`."""

from eval.commands import eval_app

if __name__ == "__main__":
    eval_app(prog_name="python -m eval")
