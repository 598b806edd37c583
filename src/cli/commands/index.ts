/** Every CLI command, in the order `mammals --help` lists them. Add one line per new command. */
import type { Command } from "commander";
import { register as analyze } from "./analyze.js";
import { register as benchIndex } from "./bench-index.js";
import { register as demo } from "./demo.js";
import { register as exportOnnx } from "./export-onnx.js";
import { register as finetune } from "./finetune.js";
import { register as idn } from "./idn.js";
import { register as knn } from "./knn.js";
import { register as policies } from "./policies.js";
import { register as quantize } from "./quantize.js";
import { register as serve } from "./serve.js";
import { register as simulate } from "./simulate.js";
import { register as trace } from "./trace.js";
import { register as train } from "./train.js";
import { register as web } from "./web.js";

export const COMMANDS: Array<(program: Command) => void> = [
  demo,
  serve,
  benchIndex,
  knn,
  train,
  quantize,
  finetune,
  exportOnnx,
  simulate,
  policies,
  trace,
  analyze,
  idn,
  web,
];
