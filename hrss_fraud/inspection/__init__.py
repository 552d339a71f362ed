"""On-site inspection rounds (检查轮次): zones, inspectors and groups, the reproducible draw
of targets and assignments (双随机), and the printable lists each group takes on site."""
