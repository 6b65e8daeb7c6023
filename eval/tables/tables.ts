/**
 * Every reproducible paper table by the name its `deno task reproduce:<name>` uses.
 *
 * | name     | paper                                   | data                         |
 * | -------- | --------------------------------------- | ---------------------------- |
 * | `table1` | Table 1: ImageNette, ImageIDC           | ImageNette; IDC: --imagenet  |
 * | `table2` | Table 2: ImageNet-100                   | --imagenet                   |
 * | `table3` | Table 3, Fig. 4(d): ImageNet-1K (soft)  | --imagenet, --teacher        |
 * | `table4` | Table 4: ImageNet A..E, cross-arch      | --imagenet                   |
 * | `table5` | Table 5: component ablation             | ImageNette                   |
 * | `table6` | Table 6: DDPM and DDIM                  | ImageNette                   |
 * | `table7` | Table 7: mode-discovery methods         | ImageNette                   |
 * | `table8` | Table 8: ImageWoof                      | --imagenet                   |
 * | `fig6`   | Fig. 6, Table 9: diversity              | ImageNette                   |
 * | `fig7`   | Fig. 7(a): t_stop sweep                 | ImageNette                   |
 * | `lambda` | App. F: lambda sweep                    | ImageNette                   |
 * | `fig4`   | Fig. 4(a)-(c): Stable Diffusion (+MGD3) | --sd DIR; IDC, 1K: --imagenet|
 * | `fig4d`  | Fig. 4(d): ImageNet-1K (soft), vs SOTA  | --imagenet; cpu: ImageNette  |
 * | `fig5`   | Fig. 5: t-SNE of DiT, MinMax, MGD3      | ImageNette                   |
 * | `fig8`   | Fig. 8 (App. B): per-sample metrics     | ImageNette                   |
 * | `fig9`   | Fig. 9 (App. C): metrics against t_stop | ImageNette                   |
 *
 * @module
 */
import type { TableDef } from "./spec.ts";
import { TABLE1, TABLE5, TABLE6, TABLE7 } from "./imagenette_tables.ts";
import { TABLE2, TABLE3, TABLE4 } from "./imagenet_tables.ts";
import { TABLE8 } from "./table8.ts";
import { FIG6, FIG7, LAMBDA_SWEEP } from "./sweep_tables.ts";
import { FIG4D, FIG5, FIG8, FIG9 } from "./figure_tables.ts";
import { FIG4 } from "./sd_tables.ts";

/**
 * The tables by name.
 *
 * @example
 * ```ts
 * import { TABLES } from "./tables.ts";
 * Object.keys(TABLES); // ["table1", "table2", ..., "lambda"]
 * ```
 */
export const TABLES: Readonly<Record<string, TableDef>> = {
  table1: TABLE1,
  table2: TABLE2,
  table3: TABLE3,
  table4: TABLE4,
  table5: TABLE5,
  table6: TABLE6,
  table7: TABLE7,
  table8: TABLE8,
  fig6: FIG6,
  fig7: FIG7,
  lambda: LAMBDA_SWEEP,
  fig4: FIG4,
  fig4d: FIG4D,
  fig5: FIG5,
  fig8: FIG8,
  fig9: FIG9,
};

/**
 * The table of that name; throws listing the names when unknown.
 *
 * @example
 * ```ts
 * import { getTable } from "./tables.ts";
 * getTable("table7").rows.length; // 6
 * ```
 */
export function getTable(name: string): TableDef {
  const t = TABLES[name];
  if (!t) {
    throw new RangeError(
      `Unknown table '${name}': expected one of ${Object.keys(TABLES).join(", ")}`,
    );
  }
  return t;
}
