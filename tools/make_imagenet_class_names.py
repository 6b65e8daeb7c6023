"""Writes models/text/imagenet_class_names.json: wnid -> class name for the 1000 ImageNet-1K classes.

Run with Debian's python3, pointing at bare git mirrors (or checkouts) of the two sources:
    /usr/bin/python3 tools/make_imagenet_class_names.py \
        --loc /work/.mirror/JasmineLi-805+res18/repo --d4m /work/.mirror/suduo94+D4M/repo

The names are the synonym lists of the ILSVRC-2012 LOC_synset_mapping.txt ("n01440764 tench,
Tinca tinca" -> "tench, Tinca tinca"), which is what D4M (suduo94/D4M@da35d10,
distillation/label-prompt/imagenet_classes.txt, read by dataset_utils.gen_label_list) passes to
Stable Diffusion as the prompt. The copy of LOC_synset_mapping.txt in JasmineLi-805/res18@531a11e
(the source of stages/images/imagenet1k_wnids.json) renamed four entries (crane_bird, crane,
maillot_1, maillot_2); they are put back to the ILSVRC text ("crane", "crane", "maillot",
"maillot, tank suit"). D4M's list equals the result line for line except that it hand-edited the
two cranes: index 134 (n02012849, the bird) reads "crane,machine" and index 517 (n03126707, the
machine) "crane, bird" (swapped); the script checks that these are the only differences.
"""
import argparse
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "models", "text", "imagenet_class_names.json")
RESTORED = {"n02012849": "crane", "n03126707": "crane", "n03710637": "maillot",
            "n03710721": "maillot, tank suit"}
D4M_EDITS = {"n02012849": "crane,machine", "n03126707": "crane, bird"}


def git_show(repo, path):
    if os.path.isdir(os.path.join(repo, ".git")) or not os.path.exists(os.path.join(repo, "HEAD")):
        return open(os.path.join(repo, path), encoding="utf-8").read()
    return subprocess.check_output(["git", "--git-dir", repo, "show", f"HEAD:{path}"]).decode("utf-8")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loc", required=True, help="JasmineLi-805/res18 (LOC_synset_mapping.txt)")
    ap.add_argument("--d4m", required=True, help="suduo94/D4M (label-prompt/imagenet_classes.txt)")
    args = ap.parse_args()
    lines = [ln.strip() for ln in git_show(args.loc, "LOC_synset_mapping.txt").splitlines() if ln.strip()]
    names = {}
    for ln in lines:
        wnid, name = ln.split(" ", 1)
        names[wnid] = RESTORED.get(wnid, name)
    assert len(names) == 1000 and list(names) == sorted(names)
    d4m = [ln.strip().split("\t")[0] for ln in
           git_show(args.d4m, "distillation/label-prompt/imagenet_classes.txt").splitlines()]
    assert len(d4m) == 1000
    diff = {w: d for w, d, n in zip(names, d4m, names.values()) if d != n}
    assert diff == D4M_EDITS, diff
    doc = {
        "source": "ILSVRC-2012 LOC_synset_mapping.txt synonym lists (copy in JasmineLi-805/res18@531a11e, "
                  "its four renamed entries restored), sorted by wnid; equal to D4M's prompts "
                  "(suduo94/D4M@da35d10 distillation/label-prompt/imagenet_classes.txt) except D4M's "
                  "swapped 'crane,machine' (n02012849) / 'crane, bird' (n03126707). Made by "
                  "tools/make_imagenet_class_names.py.",
        "names": names,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {OUT}: {len(names)} classes")


if __name__ == "__main__":
    main()
