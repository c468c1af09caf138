#!/usr/bin/env python3
"""Two jndenc builds side by side on the same pictures, interleaved in one run (this machine is noisy):
per preset, the written bytes, quality and sampling of each, the candidates each judged, and the
wall time of the whole process (ratio after / before). Any picture whose output differs is listed.

    scripts/compare-builds.py BEFORE AFTER PICTURE... [--target visually-lossless,web-high,web]
                              [--args '--decider vp-jnd'] [--one-encode]

With --one-encode, AFTER also encodes each picture once at the quality auto mode chose (jpegli,
`-quality Q`, interleaved with the two), and the table gives each build's time against it.

Prints a Markdown table. Used for issue 30's third stop (before: the previous commit's release build).
"""
import argparse, json, os, subprocess, sys, tempfile, time

def one_encode(binary, picture, quality, out_dir):
    started = time.perf_counter()
    subprocess.run([binary, '--codec', 'jpegli', '-quality', str(quality), '-outfile',
                    os.path.join(out_dir, 'one.jpg'), picture], check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started

def run(binary, picture, target, out_dir, tag, extra):
    out, report = os.path.join(out_dir, tag + '.jpg'), os.path.join(out_dir, tag + '.json')
    started = time.perf_counter()
    subprocess.run([binary, *extra, '--target', target, '--report', report, '-outfile', out, picture],
                   check=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    r = json.load(open(report))['images'][0]
    return {'bytes': os.path.getsize(out), 'quality': r['quality'], 'sampling': r['sampling'],
            'judged': len(r['candidates']), 'seconds': seconds}

def main():
    p = argparse.ArgumentParser()
    p.add_argument('before'); p.add_argument('after'); p.add_argument('pictures', nargs='+')
    p.add_argument('--target', default='visually-lossless,web-high,web')
    p.add_argument('--args', default='', help='switches given to both builds, e.g. "--decider vp-jnd"')
    p.add_argument('--one-encode', action='store_true', help="time one encode at the chosen quality too")
    a = p.parse_args()
    extra = a.args.split()
    once = ' x one encode (before -> after) |' if a.one_encode else ''
    print('| target | pictures | same output | bytes after / before | candidates judged (before -> after) | seconds after / before |' + once)
    print('|---|---|---|---|---|---|' + ('---|' if a.one_encode else ''))
    differ = []
    with tempfile.TemporaryDirectory() as tmp:
        for target in a.target.split(','):
            rows = []
            for picture in a.pictures:
                b = run(a.before, picture, target, tmp, 'b', extra)
                n = run(a.after, picture, target, tmp, 'a', extra)
                n['once'] = one_encode(a.after, picture, n['quality'], tmp) if a.one_encode else 0.0
                same = open(os.path.join(tmp, 'b.jpg'), 'rb').read() == open(os.path.join(tmp, 'a.jpg'), 'rb').read()
                if not same:
                    differ.append((target, os.path.basename(picture), b, n))
                rows.append((b, n, same))
            total = lambda k, i: sum(r[i][k] for r in rows)
            print(f"| {target} | {len(rows)} | {sum(r[2] for r in rows)} | {total('bytes', 1) / total('bytes', 0):.4f}x "
                  f"| {total('judged', 0) / len(rows):.2f} -> {total('judged', 1) / len(rows):.2f} "
                  f"| {total('seconds', 1) / total('seconds', 0):.3f}x |"
                  + (f" {total('seconds', 0) / total('once', 1):.1f} -> {total('seconds', 1) / total('once', 1):.1f} |"
                     if a.one_encode else ''))
    for target, name, b, n in differ:
        print(f"- {target} {name}: before q{b['quality']} {b['sampling']} {b['bytes']} B, after q{n['quality']} {n['sampling']} {n['bytes']} B")

if __name__ == '__main__':
    sys.exit(main())
