;; WebAssembly SIMD kernels of the models' single-example forward passes (see kernels.ts).
;;
;; Dense layers are stored input-major with the outputs padded to a multiple of 16 lanes
;; (row j of W^T at w + j * outp * size), so one non-zero input adds one contiguous weight row to
;; the outputs: zero inputs (four fifths of an MNIST digit, half of the post-ReLU activations)
;; cost nothing, and 16 outputs are summed at a time in four vector registers. Sums are float32
;; (rounded after every multiply and every add) for the float layers, exact int32 for int8.
;;
;; The sparse projection is ProjectionNet's random projection when its hyperplanes have entries
;; in {-1, 0, +1}: stored input-major as two lists per input (hyperplanes where the input counts
;; +1, where it counts -1), so one non-zero input adds or subtracts its value to the float64
;; accumulators of the hyperplanes it touches, and no multiply is needed.
;;
;; All pointers are byte offsets into the imported memory; the caller (kernels.ts) lays out the
;; weights and scratch areas 16-byte aligned.
(module
  (import "env" "memory" (memory 1))

  ;; Lists the indices j < n with x[j] != 0 (float32) into nz; returns how many.
  (func $gather_f32 (param $x i32) (param $n i32) (param $nz i32) (result i32)
    (local $j i32) (local $m i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (i32.store (i32.add (local.get $nz) (i32.shl (local.get $m) (i32.const 2))) (local.get $j))
        (local.set $m (i32.add (local.get $m)
          (f32.ne (f32.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2)))) (f32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (local.get $m))

  ;; Lists the indices j < n with x[j] != 0 (int8) into nz; returns how many.
  (func $gather_i8 (param $x i32) (param $n i32) (param $nz i32) (result i32)
    (local $j i32) (local $m i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (i32.store (i32.add (local.get $nz) (i32.shl (local.get $m) (i32.const 2))) (local.get $j))
        (local.set $m (i32.add (local.get $m)
          (i32.ne (i32.load8_s (i32.add (local.get $x) (local.get $j))) (i32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (local.get $m))

  ;; y[0..outp) = b + sum over non-zero x[j] of x[j] * wt[j, 0..outp), then max(0, .) when
  ;; relu = 1, or the sign bit as 1.0 / 0.0 (y > 0) when relu = 2 (a dense random projection).
  ;; wt: in rows of outp float32 (outp a multiple of 16); nz: scratch for `in` indices.
  (func $dense_f32 (export "dense_f32")
    (param $x i32) (param $w i32) (param $b i32) (param $y i32)
    (param $in i32) (param $outp i32) (param $relu i32) (param $nz i32)
    (local $m i32) (local $c i32) (local $end i32) (local $row i32) (local $t i32)
    (local $j i32) (local $p i32)
    (local $v v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $m (call $gather_f32 (local.get $x) (local.get $in) (local.get $nz)))
    (local.set $row (i32.shl (local.get $outp) (i32.const 2)))
    (local.set $end (local.get $row))
    (block $outs_done
      (loop $outs
        (br_if $outs_done (i32.ge_u (local.get $c) (local.get $end)))
        (local.set $a0 (v128.load offset=0 (i32.add (local.get $b) (local.get $c))))
        (local.set $a1 (v128.load offset=16 (i32.add (local.get $b) (local.get $c))))
        (local.set $a2 (v128.load offset=32 (i32.add (local.get $b) (local.get $c))))
        (local.set $a3 (v128.load offset=48 (i32.add (local.get $b) (local.get $c))))
        (local.set $t (i32.const 0))
        (block $ins_done
          (loop $ins
            (br_if $ins_done (i32.ge_u (local.get $t) (local.get $m)))
            (local.set $j (i32.load (i32.add (local.get $nz) (i32.shl (local.get $t) (i32.const 2)))))
            (local.set $v (f32x4.splat (f32.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $p (i32.add (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $row))) (local.get $c)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (v128.load offset=0 (local.get $p)))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v) (v128.load offset=16 (local.get $p)))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v) (v128.load offset=32 (local.get $p)))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v) (v128.load offset=48 (local.get $p)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $ins)))
        (if (i32.eq (local.get $relu) (i32.const 1))
          (then
            (local.set $a0 (f32x4.pmax (local.get $a0) (v128.const f32x4 0 0 0 0)))
            (local.set $a1 (f32x4.pmax (local.get $a1) (v128.const f32x4 0 0 0 0)))
            (local.set $a2 (f32x4.pmax (local.get $a2) (v128.const f32x4 0 0 0 0)))
            (local.set $a3 (f32x4.pmax (local.get $a3) (v128.const f32x4 0 0 0 0)))))
        (if (i32.eq (local.get $relu) (i32.const 2))
          (then
            (local.set $a0 (v128.and (f32x4.gt (local.get $a0) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))
            (local.set $a1 (v128.and (f32x4.gt (local.get $a1) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))
            (local.set $a2 (v128.and (f32x4.gt (local.get $a2) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))
            (local.set $a3 (v128.and (f32x4.gt (local.get $a3) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1)))))
        (v128.store offset=0 (i32.add (local.get $y) (local.get $c)) (local.get $a0))
        (v128.store offset=16 (i32.add (local.get $y) (local.get $c)) (local.get $a1))
        (v128.store offset=32 (i32.add (local.get $y) (local.get $c)) (local.get $a2))
        (v128.store offset=48 (i32.add (local.get $y) (local.get $c)) (local.get $a3))
        (local.set $c (i32.add (local.get $c) (i32.const 64)))
        (br $outs))))

  ;; acc[0..outp) = b + sum over non-zero x[j] of x[j] * wt[j, 0..outp), int8 x int8 -> int32.
  ;; wt: in rows of outp int8 (outp a multiple of 16); b, acc: int32; nz: scratch for `in` indices.
  ;; |x[j] * w| <= 127 * 127 fits an int16 lane, so each product is exact before it is widened.
  (func $dense_i8 (export "dense_i8")
    (param $x i32) (param $w i32) (param $b i32) (param $acc i32)
    (param $in i32) (param $outp i32) (param $nz i32)
    (local $m i32) (local $c i32) (local $t i32) (local $j i32) (local $p i32)
    (local $v v128) (local $q v128) (local $lo v128) (local $hi v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $m (call $gather_i8 (local.get $x) (local.get $in) (local.get $nz)))
    (block $outs_done
      (loop $outs
        (br_if $outs_done (i32.ge_u (local.get $c) (local.get $outp)))
        (local.set $a0 (v128.load offset=0 (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $a1 (v128.load offset=16 (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $a2 (v128.load offset=32 (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $a3 (v128.load offset=48 (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 2)))))
        (local.set $t (i32.const 0))
        (block $ins_done
          (loop $ins
            (br_if $ins_done (i32.ge_u (local.get $t) (local.get $m)))
            (local.set $j (i32.load (i32.add (local.get $nz) (i32.shl (local.get $t) (i32.const 2)))))
            (local.set $v (i16x8.splat (i32.load8_s (i32.add (local.get $x) (local.get $j)))))
            (local.set $p (i32.add (i32.add (local.get $w) (i32.mul (local.get $j) (local.get $outp))) (local.get $c)))
            (local.set $q (v128.load (local.get $p)))
            (local.set $lo (i16x8.mul (i16x8.extend_low_i8x16_s (local.get $q)) (local.get $v)))
            (local.set $hi (i16x8.mul (i16x8.extend_high_i8x16_s (local.get $q)) (local.get $v)))
            (local.set $a0 (i32x4.add (local.get $a0) (i32x4.extend_low_i16x8_s (local.get $lo))))
            (local.set $a1 (i32x4.add (local.get $a1) (i32x4.extend_high_i16x8_s (local.get $lo))))
            (local.set $a2 (i32x4.add (local.get $a2) (i32x4.extend_low_i16x8_s (local.get $hi))))
            (local.set $a3 (i32x4.add (local.get $a3) (i32x4.extend_high_i16x8_s (local.get $hi))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $ins)))
        (v128.store offset=0 (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 2))) (local.get $a0))
        (v128.store offset=16 (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 2))) (local.get $a1))
        (v128.store offset=32 (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 2))) (local.get $a2))
        (v128.store offset=48 (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 2))) (local.get $a3))
        (local.set $c (i32.add (local.get $c) (i32.const 16)))
        (br $outs))))

  ;; The sign bits of a {-1, 0, +1} projection. acc[k] (float64) starts at init[k] (minus the
  ;; centre's projection); every non-zero x[j] is added to the hyperplanes listed in
  ;; ent[off[2j] .. off[2j+1]) and subtracted from those in ent[off[2j+1] .. off[2j+2]), inputs
  ;; in ascending order (the TypeScript reference adds in the same order, so the sums are
  ;; identical). Then feat[k] = 1.0 when acc[k] > 0 else 0.0 (float32, `bits` of them).
  (func $project_pm (export "project_pm")
    (param $x i32) (param $in i32) (param $off i32) (param $ent i32)
    (param $init i32) (param $acc i32) (param $bits i32) (param $feat i32)
    (local $j i32) (local $k i32) (local $e i32) (local $mid i32) (local $end i32) (local $a i32)
    (local $v f64)
    (block $init_done
      (loop $init_next
        (br_if $init_done (i32.ge_u (local.get $k) (local.get $bits)))
        (f64.store (i32.add (local.get $acc) (i32.shl (local.get $k) (i32.const 3)))
          (f64.load (i32.add (local.get $init) (i32.shl (local.get $k) (i32.const 3)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $init_next)))
    (local.set $k (i32.const 0))
    (block $ins_done
      (loop $ins
        (br_if $ins_done (i32.ge_u (local.get $j) (local.get $in)))
        (local.set $v (f64.promote_f32 (f32.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))))
        (if (f64.ne (local.get $v) (f64.const 0))
          (then
            (local.set $e (i32.load offset=0 (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 3)))))
            (local.set $mid (i32.load offset=4 (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 3)))))
            (local.set $end (i32.load offset=8 (i32.add (local.get $off) (i32.shl (local.get $j) (i32.const 3)))))
            (block $plus_done
              (loop $plus
                (br_if $plus_done (i32.ge_u (local.get $e) (local.get $mid)))
                (local.set $a (i32.add (local.get $acc)
                  (i32.shl (i32.load (i32.add (local.get $ent) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 3))))
                (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $v)))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $plus)))
            (block $minus_done
              (loop $minus
                (br_if $minus_done (i32.ge_u (local.get $e) (local.get $end)))
                (local.set $a (i32.add (local.get $acc)
                  (i32.shl (i32.load (i32.add (local.get $ent) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 3))))
                (f64.store (local.get $a) (f64.sub (f64.load (local.get $a)) (local.get $v)))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $minus)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $ins)))
    (block $bits_done
      (loop $bit
        (br_if $bits_done (i32.ge_u (local.get $k) (local.get $bits)))
        (f32.store (i32.add (local.get $feat) (i32.shl (local.get $k) (i32.const 2)))
          (f32.convert_i32_u (f64.gt (f64.load (i32.add (local.get $acc) (i32.shl (local.get $k) (i32.const 3)))) (f64.const 0))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $bit))))

  ;; One Adam step over n values (n even): float32 storage, float64 arithmetic in the order of
  ;; the TypeScript loop in engine/optim.ts, two lanes at a time, so the result is bit-identical:
  ;;   m = b1 m + c1 g;  v = (b2 v + (c2 g) g);  w = w decay - (step m) / (sqrt(v) + eps)
  ;; with c1 = 1 - b1, c2 = 1 - b2 computed by the caller.
  (func $adam (export "adam")
    (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64)
    (param $decay f64) (param $step f64) (param $eps f64)
    (local $o i32) (local $end i32) (local $gi v128) (local $mi v128) (local $vi v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $gi (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $g) (local.get $o)))))
        (local.set $mi (f64x2.add
          (f64x2.mul (f64x2.splat (local.get $b1)) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $m) (local.get $o)))))
          (f64x2.mul (f64x2.splat (local.get $c1)) (local.get $gi))))
        (local.set $vi (f64x2.add
          (f64x2.mul (f64x2.splat (local.get $b2)) (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $v) (local.get $o)))))
          (f64x2.mul (f64x2.mul (f64x2.splat (local.get $c2)) (local.get $gi)) (local.get $gi))))
        (v128.store64_lane 0 (i32.add (local.get $m) (local.get $o)) (f32x4.demote_f64x2_zero (local.get $mi)))
        (v128.store64_lane 0 (i32.add (local.get $v) (local.get $o)) (f32x4.demote_f64x2_zero (local.get $vi)))
        (v128.store64_lane 0 (i32.add (local.get $w) (local.get $o))
          (f32x4.demote_f64x2_zero
            (f64x2.sub
              (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $w) (local.get $o)))) (f64x2.splat (local.get $decay)))
              (f64x2.div
                (f64x2.mul (f64x2.splat (local.get $step)) (local.get $mi))
                (f64x2.add (f64x2.sqrt (local.get $vi)) (f64x2.splat (local.get $eps)))))))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (br $next))))
)
