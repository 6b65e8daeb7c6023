/**
 * Text prompts from class names, and the ImageNet-1K class names of the wnids.
 *
 * The paper samples Stable Diffusion "using the class names as a text prompt" (Sec. 5); D4M
 * (suduo94/D4M@da35d10), the closest prior method, passes each class's line of
 * distillation/label-prompt/imagenet_classes.txt to the pipeline as the whole prompt, with no
 * template (gen_prototype.py: `pipe(prompt=prompts, ...)`, prompts = `label_list[label]`; its
 * gen_syn_image.py adds `negative_prompt='cartoon, anime, painting'`). That line is the
 * ILSVRC-2012 LOC_synset_mapping.txt synonym list ("tench, Tinca tinca"), which is what
 * {@link imagenetClassName} returns; {@link imagenetShortName} gives its first synonym ("tench").
 * models/text/imagenet_class_names.json says where the list comes from (made by
 * tools/make_imagenet_class_names.py); it matches D4M's file except for D4M's two hand-edited,
 * swapped crane entries.
 *
 * @module
 */
import CLASS_NAMES from "./imagenet_class_names.json" with { type: "json" };

/** The placeholder a prompt template must hold exactly once. */
const SLOT = "{}";

/**
 * wnid -> class name (the LOC_synset_mapping synonym list) for the 1000 ImageNet-1K classes.
 *
 * @example
 * ```ts
 * import { IMAGENET_CLASS_NAMES } from "./prompts.ts";
 * IMAGENET_CLASS_NAMES["n01440764"]; // "tench, Tinca tinca"
 * ```
 */
export const IMAGENET_CLASS_NAMES: Readonly<Record<string, string>> = Object.freeze({
  ...CLASS_NAMES.names,
});

/**
 * The class name of an ImageNet-1K wnid: its synonym list, D4M's prompt.
 *
 * @example
 * ```ts
 * import { imagenetClassName } from "./prompts.ts";
 * imagenetClassName("n02102040"); // "English springer, English springer spaniel"
 * ```
 */
export function imagenetClassName(wnid: string): string {
  if (!Object.hasOwn(IMAGENET_CLASS_NAMES, wnid)) {
    throw new Error(
      `Unknown ImageNet wnid ${JSON.stringify(wnid)}: expected one of the 1000 ImageNet-1K wnids ` +
        `(e.g. n01440764) listed in models/text/imagenet_class_names.json`,
    );
  }
  return IMAGENET_CLASS_NAMES[wnid];
}

/**
 * The first synonym of an ImageNet-1K wnid's class name.
 *
 * @example
 * ```ts
 * import { imagenetShortName } from "./prompts.ts";
 * imagenetShortName("n02102040"); // "English springer"
 * ```
 */
export function imagenetShortName(wnid: string): string {
  return imagenetClassName(wnid).split(", ")[0];
}

/**
 * One prompt per class name: `template` with its single `{}` replaced by the name ("{}", the
 * bare name, is what D4M and the paper use).
 *
 * @example
 * ```ts
 * import { classPrompts } from "./prompts.ts";
 * classPrompts(["tench", "golf ball"], "a photo of a {}"); // ["a photo of a tench", "a photo of a golf ball"]
 * classPrompts(["tench"]); // ["tench"]
 * ```
 */
export function classPrompts(names: readonly string[], template = SLOT): string[] {
  const slots = template.split(SLOT).length - 1;
  if (slots !== 1) {
    throw new Error(
      `Prompt template ${JSON.stringify(template)} has ${slots} '{}' placeholders; ` +
        `expected exactly one, e.g. "a photo of a {}"`,
    );
  }
  const at = template.indexOf(SLOT);
  return names.map((name) => template.slice(0, at) + name + template.slice(at + SLOT.length));
}
