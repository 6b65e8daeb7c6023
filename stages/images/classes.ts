/**
 * Class lists: the named ImageNet subsets the paper evaluates on, and the ImageNet-1K class
 * index that DiT conditions on.
 *
 * A class list is an ordered array of folder names (ImageNet wnids); a class's label is its
 * position in the list (SPEC.md section 6).
 *
 * Sources:
 * - ImageNette, ImageWoof, ImageIDC: SPEC.md section 6 (ImageIDC = the first 10 classes of
 *   IDC's class100.txt, which is the ImageNet-100 list of HobbitLong/CMC imagenet100.txt).
 * - ImageNet A..E: GLaD (GeorgeCazenavette/glad@d221e9c, utils.py, `Config.alpha` ..
 *   `Config.epsilon`), which lists them as ImageNet-1K indices; the wnids below are those
 *   indices looked up in the sorted wnid list (index in the comment beside each).
 * - `imagenet1k_wnids.json`: the 1000 ILSVRC-2012 wnids in sorted order, as in the
 *   LOC_synset_mapping.txt of the ImageNet localisation challenge (copied from
 *   JasmineLi-805/res18@531a11e, identical to PRIYE/Resnet50_ImageNet1k's copy). Position i
 *   is class index i, the order torchvision's ImageFolder and DiT use.
 *
 * @module
 */

import IMAGENET1K_WNIDS from "./imagenet1k_wnids.json" with { type: "json" };
import { OptionError } from "../option_error.ts";

/** An ImageNet wnid: 'n' and eight digits (WordNet noun offset), e.g. n01440764. */
const WNID_RE = /^n\d{8}$/;

/**
 * Names of the built-in class lists.
 *
 * @example
 * ```ts
 * import type { ClassPreset } from "./classes.ts";
 * const preset: ClassPreset = "imagenet-a";
 * ```
 */
export type ClassPreset =
  | "imagenette"
  | "imagewoof"
  | "imageidc"
  | "imagenet-a"
  | "imagenet-b"
  | "imagenet-c"
  | "imagenet-d"
  | "imagenet-e";

/**
 * The built-in class lists, each an ordered list of ImageNet wnids (label = position).
 *
 * @example
 * ```ts
 * import { CLASS_PRESETS } from "./classes.ts";
 * CLASS_PRESETS.imagenette[0]; // "n01440764" (tench)
 * ```
 */
export const CLASS_PRESETS: Readonly<Record<ClassPreset, readonly string[]>> = Object.freeze({
  // SPEC.md section 6 (fast.ai imagenette order)
  imagenette: Object.freeze([
    "n01440764", // 0 tench
    "n02102040", // 217 English springer
    "n02979186", // 482 cassette player
    "n03000684", // 491 chain saw
    "n03028079", // 497 church
    "n03394916", // 566 French horn
    "n03417042", // 569 garbage truck
    "n03425413", // 571 gas pump
    "n03445777", // 574 golf ball
    "n03888257", // 701 parachute
  ]),
  // SPEC.md section 6 (fast.ai imagewoof order, sorted wnids)
  imagewoof: Object.freeze([
    "n02086240", // 155 Shih-Tzu
    "n02087394", // 159 Rhodesian ridgeback
    "n02088364", // 162 beagle
    "n02089973", // 167 English foxhound
    "n02093754", // 182 Border terrier
    "n02096294", // 193 Australian terrier
    "n02099601", // 207 golden retriever
    "n02105641", // 229 Old English sheepdog
    "n02111889", // 258 Samoyed
    "n02115641", // 273 dingo
  ]),
  // SPEC.md section 6: first 10 of IDC's class100.txt (not sorted: keep this order)
  imageidc: Object.freeze([
    "n02869837", // 452 bonnet
    "n01749939", // 64 green mamba
    "n02488291", // 374 langur
    "n02107142", // 236 Doberman
    "n13037406", // 993 gyromitra
    "n02091831", // 176 Saluki
    "n04517823", // 882 vacuum
    "n04589890", // 904 window screen
    "n03062245", // 503 cocktail shaker
    "n01773797", // 74 garden spider
  ]),
  // GLaD utils.py Config.alpha = [255, 376, 984, 364, 500, 986, 333, 576, 148, 135]
  "imagenet-a": Object.freeze([
    "n02111129", // 255 Leonberg
    "n02489166", // 376 proboscis monkey
    "n11879895", // 984 rapeseed
    "n02457408", // 364 three-toed sloth
    "n03042490", // 500 cliff dwelling
    "n12057211", // 986 yellow lady's slipper
    "n02342885", // 333 hamster
    "n03447447", // 576 gondola
    "n02071294", // 148 killer whale
    "n02013706", // 135 limpkin
  ]),
  // GLaD utils.py Config.beta = [129, 916, 90, 275, 995, 874, 102, 259, 685, 139]
  "imagenet-b": Object.freeze([
    "n02006656", // 129 spoonbill
    "n06359193", // 916 web site
    "n01820546", // 90 lorikeet
    "n02116738", // 275 African hunting dog
    "n13044778", // 995 earthstar
    "n04487081", // 874 trolleybus
    "n01872401", // 102 echidna
    "n02112018", // 259 Pomeranian
    "n03841143", // 685 odometer
    "n02025239", // 139 ruddy turnstone
  ]),
  // GLaD utils.py Config.gamma = [565, 94, 554, 535, 92, 392, 291, 136, 324, 11]
  "imagenet-c": Object.freeze([
    "n03393912", // 565 freight car
    "n01833805", // 94 hummingbird
    "n03344393", // 554 fireboat
    "n03208938", // 535 disk brake
    "n01828970", // 92 bee eater
    "n02606052", // 392 rock beauty
    "n02129165", // 291 lion
    "n02017213", // 136 European gallinule
    "n02280649", // 324 cabbage butterfly
    "n01531178", // 11 goldfinch
  ]),
  // GLaD utils.py Config.delta = [9, 258, 13, 262, 19, 339, 321, 24, 93, 322]
  "imagenet-d": Object.freeze([
    "n01518878", // 9 ostrich
    "n02111889", // 258 Samoyed
    "n01534433", // 13 junco
    "n02112706", // 262 Brabancon griffon
    "n01592084", // 19 chickadee
    "n02389026", // 339 sorrel
    "n02276258", // 321 admiral
    "n01622779", // 24 great grey owl
    "n01829413", // 93 hornbill
    "n02277742", // 322 ringlet
  ]),
  // GLaD utils.py Config.epsilon = [816, 96, 100, 145, 739, 713, 783, 76, 688, 326]
  "imagenet-e": Object.freeze([
    "n04277352", // 816 spindle
    "n01843383", // 96 toucan
    "n01860187", // 100 black swan
    "n02056570", // 145 king penguin
    "n03992509", // 739 potter's wheel
    "n03924679", // 713 photocopier
    "n04153751", // 783 screw
    "n01774750", // 76 tarantula
    "n03857828", // 688 oscilloscope
    "n02281787", // 326 lycaenid
  ]),
});

const WNID_INDEX: ReadonlyMap<string, number> = new Map(
  (IMAGENET1K_WNIDS as string[]).map((wnid, i) => [wnid, i]),
);

/**
 * The ImageNet-1K class index of a wnid: its position among the 1000 wnids in sorted order
 * (the label DiT-XL/2 and torchvision's ImageNet models use). Throws for an unknown wnid.
 *
 * @example
 * ```ts
 * import { imagenetIndex } from "./classes.ts";
 * imagenetIndex("n01440764"); // 0
 * imagenetIndex("n15075141"); // 999
 * ```
 */
export function imagenetIndex(wnid: string): number {
  const index = WNID_INDEX.get(wnid);
  if (index === undefined) {
    throw new Error(
      `Unknown ImageNet-1K wnid '${wnid}': expected one of the 1000 ILSVRC-2012 synsets ` +
        `(e.g. 'n01440764'), see stages/imagenet1k_wnids.json`,
    );
  }
  return index;
}

/**
 * Resolves a class list: a preset name (see {@link CLASS_PRESETS}, case-insensitive), a
 * single wnid (`n01440764`), a comma-separated list of class names, or an array of class
 * names. Returns a fresh array in label order. Throws an {@link OptionError} for an unknown
 * preset, an empty list or a repeated class.
 *
 * @example
 * ```ts
 * import { resolveClasses } from "./classes.ts";
 * resolveClasses("imagenette").length; // 10
 * resolveClasses("n01440764,n02102040"); // ["n01440764", "n02102040"]
 * resolveClasses("n01440764"); // ["n01440764"]
 * resolveClasses(["cat", "dog"]); // ["cat", "dog"]
 * ```
 */
export function resolveClasses(presetOrList: string | readonly string[]): string[] {
  let classes: string[];
  if (typeof presetOrList === "string") {
    const key = presetOrList.trim().toLowerCase();
    if (Object.hasOwn(CLASS_PRESETS, key)) {
      classes = [...CLASS_PRESETS[key as ClassPreset]];
    } else if (presetOrList.includes(",") || WNID_RE.test(presetOrList.trim())) {
      classes = presetOrList.split(",").map((s) => s.trim());
    } else {
      throw new OptionError(
        `Unknown class preset '${presetOrList}': expected one of ` +
          `${Object.keys(CLASS_PRESETS).join(", ")}, a single wnid (e.g. n01440764), ` +
          `or a comma-separated list of class names`,
      );
    }
  } else {
    classes = [...presetOrList];
  }
  if (classes.length === 0) {
    throw new OptionError("Class list is empty: expected at least one class");
  }
  const seen = new Set<string>();
  for (const name of classes) {
    if (typeof name !== "string" || name === "" || /[\\/]/.test(name) || name.startsWith(".")) {
      throw new OptionError(
        `Invalid class name ${JSON.stringify(name)}: expected a folder name (no '/', '\\' ` +
          `or leading '.')`,
      );
    }
    if (seen.has(name)) {
      throw new OptionError(`Class '${name}' appears twice in the class list`);
    }
    seen.add(name);
  }
  return classes;
}
