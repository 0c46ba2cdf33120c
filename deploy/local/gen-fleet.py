#!/usr/bin/env python3
"""gen-fleet.py — write a demo fleet of numbers as the CSV `numtrust-producer import` reads.

Deterministic for a given --seed: the same arguments give the same file. Numbers are
Chinese mobile numbers (+86 1[3-9]x xxxx xxxx) spread over several tenants and the
four scenarios of docs (high_frequency, seasonal, high_qualification, individual).
"""
import argparse
import random
import sys

SCENARIOS = [  # (id, share, label suffix)
    ("high_frequency", 0.45, "销售部"),
    ("seasonal", 0.25, "客服中心"),
    ("high_qualification", 0.15, "执业医师"),
    ("individual", 0.15, "门店"),
]
TENANT_NAMES = ["华信科技", "安和医疗", "顺达物流", "锦程家居", "青禾教育", "鼎盛保险",
                "云帆电商", "百川地产", "恒通汽车", "乐享旅游", "康宁宠物医院", "匠心皮具护理"]
GROUPS = ["销售一部", "销售二部", "客服部"]  # a tenant's teams (--groups)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--numbers", type=int, default=2000, help="numbers to write (default 2000)")
    ap.add_argument("--tenants", type=int, default=6, help="tenants (default 6, at most 12)")
    ap.add_argument("--platforms", default="baidu,tencent,qihoo360",
                    help="platform ids, comma-separated (default baidu,tencent,qihoo360)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--prefix", default="", help="digits after +86 that every number starts "
                    "with (default: none; use it to keep fleets of several runs apart)")
    ap.add_argument("--groups", action="store_true", help="add the optional group column: "
                    "each number in one of a tenant's teams (mark statistics per group)")
    ap.add_argument("-o", "--output", default="-", help="output file (default stdout)")
    args = ap.parse_args()
    if args.numbers < 1:
        ap.error("--numbers must be at least 1")
    if not 1 <= args.tenants <= len(TENANT_NAMES):
        ap.error(f"--tenants must be 1-{len(TENANT_NAMES)}")
    if args.prefix and not args.prefix.isdigit():
        ap.error("--prefix must be digits")
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    if not platforms:
        ap.error("--platforms is empty")

    rng = random.Random(args.seed)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    out.write("tenant,number,scenario,base_label,platforms" + (",group" if args.groups else "")
              + "\n")
    seen = set()
    weights = [s[1] for s in SCENARIOS]
    while len(seen) < args.numbers:
        body = args.prefix + "".join(rng.choice("0123456789") for _ in range(11 - len(args.prefix)))
        if not args.prefix:
            body = "1" + rng.choice("3456789") + body[2:]
        number = "+86" + body
        if number in seen:
            continue
        seen.add(number)
        t = rng.randrange(args.tenants)
        scen = rng.choices(SCENARIOS, weights)[0]
        label = f"{TENANT_NAMES[t]}-{scen[2]}"
        group = "," + rng.choice(GROUPS) if args.groups else ""
        out.write(f"tenant{t + 1:02d},{number},{scen[0]},{label},{';'.join(platforms)}{group}\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
