/**
 * Model files and model arithmetic stay byte-compatible across restructurings of src/models/.
 *
 * The digests below were recorded from the code at commit 6e7c442 (before the float dense layers
 * and the softmax were unified), and the files in test/fixtures/models/ were written by that code
 * (see FIXTURES for how). A digest that changes means a saved file, a trained weight, a quantized
 * weight, a fine-tuned weight or a probability is no longer bit-identical to what that code gave:
 * only ever re-record them for an intended change of the format or the arithmetic, and say so.
 *
 * The digests are those of the TypeScript reference path, which this file forces: the
 * WebAssembly SIMD forward passes sum in float32 in another order, so their single-example
 * outputs match these within float tolerance, not bit for bit (test/models-wasm.test.ts checks
 * that, and that int8 outputs are identical on both paths).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { type LabeledSplit, takeRows } from "../src/data/types.js";
import {
  denseLayersOf,
  exportMlpOnnx,
  finetuneModel,
  loadModel,
  type Model,
  quantizeForDevice,
  quantizeModel,
  saveModel,
  trainModel,
} from "../src/models/all.js";
import { setModelKernelPath } from "../src/models/wasm/kernels.js";

beforeAll(() => setModelKernelPath("typescript"));
afterAll(() => setModelKernelPath("auto"));

function sha256(a: ArrayBufferView): string {
  return createHash("sha256")
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest("hex");
}

/** Three noisy clusters in 12 dimensions, values in [0, 1] with about a third exact zeros. */
function clusters(n: number, seed: number): LabeledSplit {
  const rng = new Rng(seed);
  const dim = 12;
  const centers = Array.from({ length: 3 }, () => Float32Array.from({ length: dim }, () => rng.next()));
  const x = new Float32Array(n * dim);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.int(3);
    for (let j = 0; j < dim; j++) {
      const v = centers[y[i]][j] + 0.25 * rng.normal();
      x[i * dim + j] = v < 0.2 ? 0 : Math.min(1, v);
    }
  }
  return { x, y, n, dim };
}

const TRAIN = { epochs: 3, seed: 5, batchSize: 16, lr: 1e-2 };

/**
 * The fixture files test/fixtures/models/NAME.mammals: `trainModel(spec, clusters(400, 1), 3, TRAIN)`
 * then `saveModel`, written by the code at commit 6e7c442. `proba` is the SHA-256 of
 * predictProbaBatch on clusters(64, 2).
 *
 * ProjectionNet files are projection format 1 (before very sparse hyperplanes became the
 * default): they load as the Gaussian nets they are, with `planes=gaussian` now explicit in their
 * spec (`loaded`), predict the same, and re-save as format 2 files (`resaved`, recorded when the
 * format changed), which retraining the explicit spec reproduces byte for byte.
 */
const FIXTURES: Record<
  string,
  { spec: string; file: string; proba: string; loaded?: string; resaved?: string }
> = {
  logreg: {
    spec: "logreg",
    file: "7804ec1dda4dd08fccefd3c58042bb10fd4d662abc6785ef4fe58fd98a34e35a",
    proba: "d345c37e82c7283968fca1a39a5a08a47f0d126ea8e25f04444f6dda4f5dbccf",
  },
  mlp: {
    spec: "mlp:8,6",
    file: "3b8110dba42088b32abc27a25c369dc1f815ee08e91151312ca7b7402147b852",
    proba: "51af78dc461fca9ba4dad8b7654eb48c00a2190c8fbd9525d8398b8243b1afa7",
  },
  "projection-fc": {
    spec: "projection:T=4,d=4,fc=8,trainer=8",
    file: "e675256122c222f99333c4654b1f185310abb9b0bcaf82f3c0191a1ca8416d22",
    proba: "c4b0556cf9ddc3f042808dabc10146a15f1fc57c2cb89c3b0ab7238c544b23d4",
    loaded: "projection:T=4,d=4,fc=8,trainer=8,planes=gaussian",
    resaved: "f619a8b4e5316e49fb0347450b0fbaa8817e271d3dbd67d44cc19e37e3fc5a76",
  },
  "projection-centered": {
    spec: "projection:T=3,d=5,trainer=8,center=true",
    file: "a9578503b5ec4e50d389cf1003ccbe768e371b7a0c0070f7974c3847faa8c969",
    proba: "f84a471ef2e5f9b9b0e51ece2c378914244cebf877a5975c0f02d8c71396a875",
    loaded: "projection:T=3,d=5,trainer=8,planes=gaussian,center=true",
    resaved: "9282e7b246b32e30eaf3c1a6edf761a22f975849e34643b5fc006de1c5a0134d",
  },
  "int8-mlp": {
    spec: "int8:mlp:8,6",
    file: "1efe0cba978e9eb104dc801b0fec224acddd3c7419bc47a9bbcaebe967bd7596",
    proba: "69cd1b276848d9027539e944a204f0c1011be14662d0b74494298392cffc3b87",
  },
  "int8-projection": {
    spec: "int8:projection:T=4,d=4,fc=8,trainer=8",
    file: "4fe75d9ee1f63a40419b016998aadc3dd8057302c2e6b108db18dc2dc44821b2",
    proba: "7411e3cccc1c7f91d00e5f8998a266ddd74b930dbf94162b8a84dfe8a397d5d2",
    loaded: "int8:projection:T=4,d=4,fc=8,trainer=8,planes=gaussian",
    resaved: "3902c4fa537d948fb75cbbc4b31d4f7444efc3297ddf44cbe98e2a0ea687940b",
  },
};

/**
 * MNIST models trained through the registry: SHA-256 of the saved file and of the outputs. The
 * ProjectionNet specs name their Gaussian hyperplanes since very sparse ones became the default;
 * their outputs are the ones recorded before, their files changed only by `projectionFormat: 2`.
 */
const TRAINED: Record<string, { file: string; batch: string; single: string; embed: string }> = {
  logreg: {
    file: "29d0a906dfa63e4fd0f8a79640c3c9cc67b39f664e0958387f8b9e9114b187ca",
    batch: "4404cc6376f26089ccd5176f9a9460bd09a9beb4838c20983fb581b19633a19d",
    single: "b8630ccd87246d0332537d02b51ccb12315cc1415d4d499b62902c1ca53d8a7b",
    embed: "0c994305ce7a3975c78a29fd405e16c1bbf3e5a831c5b136ace802c8fe4140b7",
  },
  "mlp:24,12": {
    file: "5b1ed210a8af2e5de879ebe52573a3d3de19172830b0f4925eadef560fcc073a",
    batch: "88f17681895446b844de125499d98a4c10dd75e86e51fff25f1f1978ec7c4a95",
    single: "50c107974c72923f7038ccf33b1e681becb841af723d1427bf3a691ca54ca8b1",
    embed: "6c92e20318431d5df36fb6fcbdcf69e89dd691aa5650a26f69ba935bd5836cdd",
  },
  "projection:T=12,d=6,fc=16,trainer=16,planes=gaussian": {
    file: "6cf6f449b4892502a63050ab61e0f6ceb3fa104ea7bc666c65621ed3ba7be3ba",
    batch: "8fd35df9e3dd4a2de290d55be975627a725cd98dac043bb4202969e17688103f",
    single: "8fd35df9e3dd4a2de290d55be975627a725cd98dac043bb4202969e17688103f",
    embed: "a3f281979de0fdb6ea1fd1c669a4436ff0b8a6707eccbc1a40ca204dcdf61e82",
  },
  "projection:T=10,d=5,trainer=16,planes=gaussian,center=true": {
    file: "7044ef88acf944a7efb107f1105e08ecf544c5f950ad28d72857a8f31b5aed05",
    batch: "6df1b3762e96cee3d300a9dd7d5054f7e6e694ce6e6e8fe1197519e320f5214d",
    single: "6df1b3762e96cee3d300a9dd7d5054f7e6e694ce6e6e8fe1197519e320f5214d",
    embed: "1491e773652bc407118b1b60940e9f0900d91fd152535a535c6f0e4fc35a2216",
  },
  "int8:mlp:24,12": {
    file: "b81d896835234b42db7a78f7b05fd8feeaae055b08b5c31f3d27d478084e3602",
    batch: "c57abcdee03a3c7c6bcd81dab70d27d738b48f6c2e99e4212fdb301c6c4500c4",
    single: "c57abcdee03a3c7c6bcd81dab70d27d738b48f6c2e99e4212fdb301c6c4500c4",
    embed: "d691e5006a1e55f9ca88a1ade2634b40b70f4f2296f302f2afaedecb0d8612d7",
  },
  "int8:projection:T=12,d=6,fc=16,trainer=16,planes=gaussian": {
    file: "73379e39a0c56d45d6115b2214e59fce08ea192c5695a358e8a532706db064cf",
    batch: "c9b36c05b410af00c96359260f4ff574b21af22fbcfe2d51e6ca50aac1e8778a",
    single: "c9b36c05b410af00c96359260f4ff574b21af22fbcfe2d51e6ca50aac1e8778a",
    embed: "dd1c605d342221ad1b76a7b2b19979ead9e71787da247787a4e8fa3ab5481e84",
  },
};

/** SHA-256 of fine-tuned model files (float and int8) and of ONNX exports. */
const DERIVED: Record<string, string> = {
  "int8 percentile": "ea932f2cd5719bb58f398f171008d8ea8751ddfdbf38949428368044404e2953",
  "onnx mlp": "894757523ee5b8684e291750c6b7622172166e1716ed58cb0035f9d05df85cf9",
  "onnx int8": "6546dabca148d0b362279dbe381f905a4a0487c810cd3c3f52732f3b6f7e7959",
  "finetune float full": "a5de3144c54e2b2d48db6ddcd60143ce7ec654b7d65f02e5036ab920732b7317",
  "finetune float full losses": "75e248ec3227ad612910843916abd13dee99bc784ef70375ed4bffbfee3992ef",
  "finetune int8 full": "d68eaf304b9cc79579f3bee5722530348abb44de43e76f27c204cd3163e4a26c",
  "finetune int8 full losses": "c69303460300bb77c9d7661a5bcc7b881c1210f66dc19cd5e02173afd9603724",
  "finetune float sparse:bias=1,channels=0.5,weights=first":
    "97dfc7551cf7fd44b6b79ab1845c4272df00e50bb3bb970f279241fccff3bef9",
  "finetune float sparse:bias=1,channels=0.5,weights=first losses":
    "eb2025f71a2bebc341407596c996807f3cfef06f0434b46c4a03eaa46e132040",
  "finetune int8 sparse:bias=1,channels=0.5,weights=first":
    "a612dda9a0c24e714080cb676465c4e0454cb94b52bef14b1d0d774de6920aff",
  "finetune int8 sparse:bias=1,channels=0.5,weights=first losses":
    "26ba3674d1d7423b16fef4e9532561a82c40d9c4e92cd24ce06c068f77fc0beb",
};

function outputsOf(model: Model, x: Float32Array, n: number) {
  const k = model.numClasses;
  const single = new Float32Array(n * k);
  const embed = new Float32Array(n * model.embedDim);
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * model.inputDim, (i + 1) * model.inputDim);
    const r = model.embedAndPredict(row);
    model.predictProba(row, single.subarray(i * k, (i + 1) * k));
    embed.set(r.embedding, i * model.embedDim);
  }
  return {
    batch: sha256(model.predictProbaBatch(x, n)),
    single: sha256(single),
    embed: sha256(embed),
  };
}

describe("model files written before the refactor", () => {
  const data = clusters(400, 1);
  const probe = clusters(64, 2);
  for (const [name, want] of Object.entries(FIXTURES))
    it(`${name} (${want.spec}) loads, predicts the same, re-saves and retrains byte for byte`, () => {
      const bytes = new Uint8Array(readFileSync(new URL(`fixtures/models/${name}.mammals`, import.meta.url)));
      expect(sha256(bytes)).toBe(want.file);
      const model = loadModel(bytes);
      expect(model.spec).toBe(want.loaded ?? want.spec);
      expect(sha256(model.predictProbaBatch(probe.x, probe.n))).toBe(want.proba);
      expect(sha256(saveModel(model as never))).toBe(want.resaved ?? want.file);
      const retrained = trainModel(want.loaded ?? want.spec, data, 3, TRAIN).model;
      expect(sha256(saveModel(retrained as never))).toBe(want.resaved ?? want.file);
    });
});

describe("seeded training, quantization, fine-tuning and export give the recorded bytes", () => {
  const ds = loadDataset("mnist");
  const train = takeRows(
    ds.train,
    Uint32Array.from({ length: 800 }, (_, i) => i),
  );
  const test = takeRows(
    ds.test,
    Uint32Array.from({ length: 100 }, (_, i) => i),
  );
  const models = new Map<string, Model>();
  const trained = (spec: string): Model => {
    let m = models.get(spec);
    if (!m) {
      m = trainModel(spec, train, 10, { epochs: 2, seed: 5, batchSize: 32, lr: 3e-3 }).model;
      models.set(spec, m);
    }
    return m;
  };

  for (const [spec, want] of Object.entries(TRAINED))
    it(`${spec}: file, reload and outputs`, () => {
      const model = trained(spec);
      const bytes = saveModel(model as never);
      const got = { file: sha256(bytes), ...outputsOf(model, test.x, test.n) };
      expect(got).toEqual(want);
      const reloaded = loadModel(bytes);
      expect(sha256(saveModel(reloaded as never))).toBe(want.file);
      expect(outputsOf(reloaded, test.x, test.n)).toEqual({
        batch: want.batch,
        single: want.single,
        embed: want.embed,
      });
    });

  it("percentile calibration, fine-tuning (float and int8) and ONNX export", () => {
    const mlp = trained("mlp:24,12");
    const got: Record<string, string> = {};
    got["int8 percentile"] = sha256(
      saveModel(quantizeModel(mlp, train, { rows: 300, method: "percentile", percentile: 99.9, seed: 3 })),
    );
    got["onnx mlp"] = sha256(exportMlpOnnx(denseLayersOf(mlp), { metadata: { spec: mlp.spec } }));
    got["onnx int8"] = sha256(exportMlpOnnx(denseLayersOf(quantizeForDevice(mlp, train, 200))));
    const adapt = takeRows(
      ds.train,
      Uint32Array.from({ length: 200 }, (_, i) => 1000 + i),
    );
    for (const scheme of ["full", "sparse:bias=1,channels=0.5,weights=first"])
      for (const kind of ["float", "int8"] as const) {
        const copy = loadModel(saveModel(mlp as never));
        const m = kind === "float" ? copy : quantizeForDevice(copy, train, 200);
        const r = finetuneModel(m, adapt, {
          scheme,
          budgetBytes: 1e9,
          optimizer: "momentum",
          epochs: 2,
          batch: 16,
          lr: kind === "int8" ? 0.01 : 0.05,
          seed: 2,
          qas: true,
        });
        got[`finetune ${kind} ${scheme}`] = sha256(saveModel(m as never));
        got[`finetune ${kind} ${scheme} losses`] = sha256(Float64Array.from(r.losses));
      }
    expect(got).toEqual(DERIVED);
  });
});
