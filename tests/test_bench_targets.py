"""``make bench``'s closing lines: every target judged, the CPU headline first."""

from __future__ import annotations

from bench.targets import summary


def test_summary_judges_each_target_and_names_what_did_not_run() -> None:
    lines = summary(
        {
            "cpu": {"cpu_us_per_item_gc-tuned": 42.0},
            "fanout": {"ratio_p50": 1.31},
            # 250 -> 300 while the caches fill is not growth; 300 -> 320 after is 6.7 %.
            "memory": {"rss_first_mib": 250.0, "rss_warm_mib": 300.0, "rss_last_mib": 320.0},
        }
    )
    assert "bridge CPU per item as served" in lines[0] and lines[0].endswith(": met")
    assert lines[1].endswith(": MISSED")  # 1.31 > 1.3
    assert "not measured (python -m bench coldstart)" in lines[2]
    assert lines[3].endswith(": met")  # 6.7 % growth once the caches are full
    late = summary({"memory": {"rss_first_mib": 250, "rss_warm_mib": 300, "rss_last_mib": 340}})
    assert late[3].endswith(": MISSED")  # 13 % after the caches are full
