"""``make bench``: run every benchmark and print its figures."""

from __future__ import annotations

from bench import fanout


def main() -> None:
    """Run the benchmarks in turn."""
    fanout.run()


if __name__ == "__main__":
    main()
