#!/usr/bin/env python3
"""How well the whole-picture judge predicts the change of both metrics from one quality to a nearby
one, against the mean curve of the training pictures (no picture information): what a search
calibrated by one real measurement would need to decide a neighbour without measuring it.

    cargo run --release -p trainer --bin jnd-train -- judge --weights jnd-model/weights/judge.bpk \\
        --curves target/judge-curves.csv --report target/judge-eval.md
    scripts/judge-steps.py target/judge-curves.csv

For each picture, sampling and rung q within 6 qualities of any preset's exact answer, and k = 1..4:
the true step of ln 3-norm and SSIMULACRA 2 from q to q - k, and the error of each predictor's step
(99.5 % quantile of |error| and its mean). Mean curves are per sampling and quality, from the
training pictures only. Prints a Markdown table per split.

Then a rule a search could use to skip confirming the failing neighbour: after a measured candidate
at q passes, q - 1 is taken to fail when the measured scores moved by the mean step predict it
beyond the ceiling by a factor exp(m) or below the floor by p points. Per preset: how often it fires
at the exact answer (a round saved), and how often it fires wrongly one or two qualities above it
(the output would then be that much higher; never a failing output, since every written candidate is
measured).
"""
import collections, csv, math, sys

PRESETS = [("visually-lossless", 1.0, 79.0), ("web-high", 1.5, 68.0), ("web", 2.0, 56.0)]
K = [1, 2, 3, 4]

def quantile(values, share):
    v = sorted(abs(x) for x in values)
    return v[min(len(v) - 1, math.ceil((len(v) - 1) * share))] if v else float('nan')

def mean(values):
    return sum(values) / max(1, len(values))

def main():
    ladders, split = collections.defaultdict(dict), {}
    for r in csv.DictReader(open(sys.argv[1])):
        key = (r['image'], r['sampling'])
        split[key] = r['split']
        ladders[key][int(r['quality'])] = (max(float(r['butteraugli_3norm']), 1e-3), float(r['ssimulacra2']),
                                           max(float(r['predicted_3norm']), 1e-3), float(r['predicted_ssimulacra2']))
    rungs = {key: [m[q] for q in sorted(m)] for key, m in ladders.items()}
    qualities = {key: sorted(m) for key, m in ladders.items()}

    def exact(r, c, f):
        answer = None
        for i in range(len(r) - 1, -1, -1):
            if not (r[i][0] <= c and r[i][1] >= f):
                break
            answer = i
        return answer

    # The mean step per sampling, quality and k, over the training pictures.
    steps = collections.defaultdict(list)
    for key, r in rungs.items():
        if split[key] != 'train':
            continue
        for k in K:
            for i in range(k, len(r)):
                steps[(key[1], k, qualities[key][i])].append(
                    (math.log(r[i - k][0]) - math.log(r[i][0]), r[i - k][1] - r[i][1]))
    mean_step = {s: (mean([a for a, _ in v]), mean([b for _, b in v])) for s, v in steps.items()}

    for which in ['train', 'validation']:
        print(f"\n{which} pictures: steps from a measured quality q to q - k, q within 6 of a preset's answer\n")
        print("| k | rungs | mean true step, ln 3-norm | judge: 99.5 % / mean error | mean curve: 99.5 % / mean error "
              "| mean true step, SSIMULACRA 2 | judge: 99.5 % / mean error | mean curve: 99.5 % / mean error |")
        print("|---|---|---|---|---|---|---|---|")
        for k in K:
            rows = []
            for key, r in rungs.items():
                if split[key] != which:
                    continue
                near = set()
                for _, c, f in PRESETS:
                    e = exact(r, c, f)
                    if e is not None:
                        near |= set(range(max(k, e - 6), min(len(r), e + 7)))
                for i in near:
                    j = i - k
                    true_d = math.log(r[j][0]) - math.log(r[i][0])
                    true_s = r[j][1] - r[i][1]
                    md, ms = mean_step[(key[1], k, qualities[key][i])]
                    rows.append((true_d, true_d - (math.log(r[j][2]) - math.log(r[i][2])), true_d - md,
                                 true_s, true_s - (r[j][3] - r[i][3]), true_s - ms))
            col = lambda n: [row[n] for row in rows]
            print(f"| {k} | {len(rows)} | {mean([abs(x) for x in col(0)]):.3f} "
                  f"| {quantile(col(1), 0.995):.3f} / {mean([abs(x) for x in col(1)]):.3f} "
                  f"| {quantile(col(2), 0.995):.3f} / {mean([abs(x) for x in col(2)]):.3f} "
                  f"| {mean([abs(x) for x in col(3)]):.2f} "
                  f"| {quantile(col(4), 0.995):.2f} / {mean([abs(x) for x in col(4)]):.2f} "
                  f"| {quantile(col(5), 0.995):.2f} / {mean([abs(x) for x in col(5)]):.2f} |")

    print("\nThe neighbour rule (margins m in ln 3-norm, p in points)\n")
    print("| pictures | m, p | preset | fires at the exact answer | fires one above it | fires two above it |")
    print("|---|---|---|---|---|---|")
    for which in ['train', 'validation']:
        for m, p in [(0.0, 0.0), (0.01, 0.2), (0.02, 0.5)]:
            for name, c, f in PRESETS:
                def fires(key, i):
                    d, s = rungs[key][i][0], rungs[key][i][1]
                    step_d, step_s = mean_step[(key[1], 1, qualities[key][i])]
                    return d * math.exp(step_d) > c * math.exp(m) or s + step_s < f - p
                at = one = two = n = 0
                for key, r in rungs.items():
                    e = exact(r, c, f)
                    if split[key] != which or e is None or e < 1 or e + 2 >= len(r):
                        continue
                    n += 1
                    at += fires(key, e)
                    one += fires(key, e + 1)
                    two += fires(key, e + 2)
                print(f"| {which} | {m}, {p} | {name} | {at / n:.2f} | {one / n:.2f} | {two / n:.2f} |")


if __name__ == '__main__':
    main()
