"""``python -m floimg_async.cli``: the same as the ``floimg`` console script."""

from . import main

if __name__ == "__main__":
    main()
