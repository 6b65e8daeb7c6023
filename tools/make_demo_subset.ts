/**
 * Writes the small ImageNette-64 subset shipped for the demo: the first 100 train and 50
 * val images per class (file-name order) of ImageNette2, preprocessed with ADM's
 * center_crop_arr(64) (the pipeline's own preprocessing) and stored as JPEG quality 95.
 *
 * Usage: deno run -A tools/make_demo_subset.ts ../shared/data/imagenette2-224 data/imagenette-64
 */
import { sharp } from "../models/core/deps.ts";
import { listImageFolder } from "../stages/images/image_folder.ts";
import { loadImages } from "../stages/images/load_images.ts";

const [src, dst] = Deno.args;
if (!src || !dst) throw new Error("usage: make_demo_subset.ts SRC_IMAGENETTE DST");
const S = 64;
for (const [split, per] of [["train", 100], ["val", 50]] as const) {
  const items = await listImageFolder(`${src}/${split}`, { classes: "imagenette" });
  for (let c = 0; c < 10; c++) {
    const mine = items.filter((i) => i.classIndex === c).slice(0, per);
    const { images } = await loadImages(mine, { size: S, mode: "center_crop_arr", range: "[0,1]" });
    await Deno.mkdir(`${dst}/${split}/${mine[0].className}`, { recursive: true });
    for (let i = 0; i < mine.length; i++) {
      const rgb = new Uint8Array(S * S * 3);
      for (let ch = 0; ch < 3; ch++) {
        for (let p = 0; p < S * S; p++) {
          rgb[p * 3 + ch] = Math.round(255 * images.data[(i * 3 + ch) * S * S + p]);
        }
      }
      const name = mine[i].path.split("/").pop()!.replace(/\.[^.]+$/, ".jpg");
      await sharp(rgb, { raw: { width: S, height: S, channels: 3 } }).jpeg({ quality: 95 }).toFile(
        `${dst}/${split}/${mine[0].className}/${name}`,
      );
    }
  }
  console.log(`${split}: ${per} images per class written`);
}
