"""Allow ``python -m hrss_fraud``."""

from hrss_fraud.cli import main

if __name__ == "__main__":
    main()
