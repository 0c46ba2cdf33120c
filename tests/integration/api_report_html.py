#!/usr/bin/python3
"""api_report_html.py DOM PNG TEXT — checks what headless Chromium made of the HTML
report, and the text report's column alignment.

DOM: Chromium's --dump-dom of the page: the seven charts are there as <svg> with
points drawn, the 3% line on the mark-rate chart, the budget line and bars on the cost
chart, and no element that loads
anything from the network. PNG: Chromium's --screenshot: a real picture (a valid
PNG, as wide as asked, with many colours: not blank). TEXT: `report --section
scenarios` (Chinese names): every row's third column starts at the same display
column (wcswidth: CJK ideographs are two columns wide).
"""
import re
import struct
import sys
import unicodedata
import zlib

dom, png, text = sys.argv[1:4]
passed = failed = 0


def check(cond, what):
    global passed, failed
    passed, failed = (passed + 1, failed) if cond else (passed, failed + 1)
    print(("ok   " if cond else "FAIL ") + what)


html = open(dom, encoding="utf-8").read()
charts = dict(re.findall(r'<svg id="chart-([a-z_]+)" class="chart" data-points="(\d+)"', html))
for name in ("mark_rate", "trust", "labels", "appeals", "certification", "operations", "costs"):
    check(int(charts.get(name, "0")) > 0, "chart %s rendered with %s points" % (name, charts.get(name)))
check(re.search(r'id="chart-mark_rate".*?class="ref".*?3% target', html, re.S) is not None,
      "the mark-rate chart carries the 3% line")
costs = re.search(r'<svg id="chart-costs".*?</svg>', html, re.S)
costs = costs.group(0) if costs else ""
check(re.search(r'class="ref".*?class="refl"[^>]*>budget 20000(\.00)?<', costs, re.S) is not None,
      "the cost chart carries the budget line (20000)")
# bars carry a <title> (the legend's squares do not)
bars = [float(h) for h in re.findall(r'<rect [^>]*height="([0-9.]+)"[^>]*><title>', costs)]
check(any(h > 0 for h in bars), "the cost chart has bars (heights %s)" % bars[:4])
row = re.search(r'id="section-costs".*?<tbody><tr><td>(\d{4}-\d\d)</td><td>([0-9.]+)</td>', html, re.S)
check(row is not None and float(row.group(2)) > 0,
      "the cost table: label updates cost money this month (%s)" % (row.groups() if row else "no row",))
check(len(re.findall(r"<(rect|polyline)\b", html)) > 20, "bars and lines drawn")
check(re.search(r'<(script|link|img|iframe)\b|src=|@import|url\(', html) is None,
      "self-contained: no script, link, image or url() to fetch")
check("numtrust — fleet report" in html, "the title is there")

data = open(png, "rb").read()
check(data[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is a PNG")
w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
check(w >= 1000 and h >= 1000, "the screenshot is %dx%d" % (w, h))
# decode the image data and count colours of a sample of pixels
idat = b"".join(data[i + 8:i + 8 + struct.unpack(">I", data[i:i + 4])[0]]
                for i in [m.start() - 4 for m in re.finditer(b"IDAT", data)])
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4}.get(ctype, 3)
stride = w * bpp
rows, prev = [], bytearray(stride)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
colours = {bytes(r[x:x + 3]) for r in rows[::7] for x in range(0, stride, bpp * 5)}
check(len(colours) > 30, "the screenshot shows a page, not a blank (%d colours)" % len(colours))
blue = sum(1 for r in rows[::3] for x in range(0, stride, bpp * 3) if r[x] < 80 and r[x + 2] > 200)
check(blue > 50, "chart colour on screen (%d samples of the first series' blue)" % blue)


def width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


lines = [l for l in open(text, encoding="utf-8").read().splitlines() if l.startswith("  ")]
starts = set()
for l in lines:
    cells = re.split(r"(?<=\S)(\s{2,})", l.strip())
    # the display column where the third cell begins
    third = l.index(cells[4], len(l) - len(l.lstrip()) + len(cells[0]) + len(cells[1]) + len(cells[2]))
    starts.add(width(l[:third]))
check(len(lines) == 5 and len(starts) == 1, "text report: columns aligned after Chinese names (%s)" % starts)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
