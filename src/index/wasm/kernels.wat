;; Scan kernels of the exact and approximate indexes, WebAssembly SIMD (128-bit).
;;
;; Compiled at build time by scripts/build-wasm.ts (the `wabt` package) into kernels.wasm.ts,
;; which embeds the bytes so the module loads synchronously in Node, browsers and edge runtimes.
;; test/index-wasm.test.ts recompiles this file and checks that the embedded bytes are the same.
;;
;; Conventions: every pointer and length is in bytes; rows are `stride` bytes apart and `dimb`
;; bytes long, with dimb a multiple of 16 (the caller zero-pads rows and the query, which adds
;; nothing to either sum). The query stays resident (it is read from the same few KB for every
;; row, so it lives in L1); stored rows are read in place, never copied. Block kernels write one
;; distance per row into `out`; the caller (JavaScript) selects the top-k from there, so the
;; boundary is crossed once per block of rows, not once per row.
;;
;; f32 kernels keep four f32x4 accumulators (16 floats per iteration) so additions overlap; the
;; results are float32 sums whose rounding the caller bounds and repairs (flat.ts recomputes the
;; exact distance of every row that may enter the top-k). int8 kernels are exact integer
;; arithmetic: codes are widened to i16 and i32x4.dot_i16x8_s sums pairs of products into i32.
(module
  (import "env" "memory" (memory 1))

  ;; Rows are checked against the bound every ABANDON bytes of f32 (128 floats) or i8 (256 codes).

  (func $hsum_f32 (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  (func $hsum_i32 (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; Squared L2 of q and x over dimb bytes of f32, or any partial sum > bound as soon as one is
  ;; seen (partial sums of squares only grow, so the row cannot end up <= bound).
  (func $l2sq_row (param $q i32) (param $x i32) (param $dimb i32) (param $bound f32) (result f32)
    (local $p i32) (local $end64 i32) (local $stop i32) (local $s f32) (local $d v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $end64 (i32.and (local.get $dimb) (i32.const -64)))
    (block $chunks_done
      (loop $chunks
        (br_if $chunks_done (i32.ge_u (local.get $p) (local.get $end64)))
        (local.set $stop (i32.add (local.get $p) (i32.const 512)))
        (if (i32.gt_u (local.get $stop) (local.get $end64))
          (then (local.set $stop (local.get $end64))))
        (loop $inner
          (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $p)))
                                   (v128.load (i32.add (local.get $q) (local.get $p)))))
          (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=16 (i32.add (local.get $x) (local.get $p)))
                                   (v128.load offset=16 (i32.add (local.get $q) (local.get $p)))))
          (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=32 (i32.add (local.get $x) (local.get $p)))
                                   (v128.load offset=32 (i32.add (local.get $q) (local.get $p)))))
          (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=48 (i32.add (local.get $x) (local.get $p)))
                                   (v128.load offset=48 (i32.add (local.get $q) (local.get $p)))))
          (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $p (i32.add (local.get $p) (i32.const 64)))
          (br_if $inner (i32.lt_u (local.get $p) (local.get $stop))))
        (local.set $s (call $hsum_f32
          (f32x4.add (f32x4.add (local.get $a0) (local.get $a1))
                     (f32x4.add (local.get $a2) (local.get $a3)))))
        (if (f32.gt (local.get $s) (local.get $bound)) (then (return (local.get $s))))
        (br $chunks)))
    ;; tail: dimb is a multiple of 16, not necessarily of 64
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $dimb)))
        (local.set $d (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $p)))
                                 (v128.load (i32.add (local.get $q) (local.get $p)))))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $tail)))
    (call $hsum_f32
      (f32x4.add (f32x4.add (local.get $a0) (local.get $a1))
                 (f32x4.add (local.get $a2) (local.get $a3)))))

  ;; Inner product of q and x over dimb bytes of f32.
  (func $dot_row (param $q i32) (param $x i32) (param $dimb i32) (result f32)
    (local $p i32) (local $end64 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $end64 (i32.and (local.get $dimb) (i32.const -64)))
    (block $main_done
      (loop $main
        (br_if $main_done (i32.ge_u (local.get $p) (local.get $end64)))
        (local.set $a0 (f32x4.add (local.get $a0)
          (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $p)))
                     (v128.load (i32.add (local.get $q) (local.get $p))))))
        (local.set $a1 (f32x4.add (local.get $a1)
          (f32x4.mul (v128.load offset=16 (i32.add (local.get $x) (local.get $p)))
                     (v128.load offset=16 (i32.add (local.get $q) (local.get $p))))))
        (local.set $a2 (f32x4.add (local.get $a2)
          (f32x4.mul (v128.load offset=32 (i32.add (local.get $x) (local.get $p)))
                     (v128.load offset=32 (i32.add (local.get $q) (local.get $p))))))
        (local.set $a3 (f32x4.add (local.get $a3)
          (f32x4.mul (v128.load offset=48 (i32.add (local.get $x) (local.get $p)))
                     (v128.load offset=48 (i32.add (local.get $q) (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $main)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $dimb)))
        (local.set $a0 (f32x4.add (local.get $a0)
          (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $p)))
                     (v128.load (i32.add (local.get $q) (local.get $p))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $tail)))
    (call $hsum_f32
      (f32x4.add (f32x4.add (local.get $a0) (local.get $a1))
                 (f32x4.add (local.get $a2) (local.get $a3)))))

  ;; out[r] = l2sq(q, row r) for n >= 1 consecutive rows at x; rows abandoned past `bound`
  ;; get a partial sum > bound instead.
  (func (export "l2sq_block")
    (param $q i32) (param $x i32) (param $stride i32) (param $dimb i32) (param $n i32)
    (param $out i32) (param $bound f32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (loop $rows
      (f32.store (local.get $out)
        (call $l2sq_row (local.get $q) (local.get $x) (local.get $dimb) (local.get $bound)))
      (local.set $x (i32.add (local.get $x) (local.get $stride)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $out) (local.get $end)))))

  ;; out[r] = q . row r for n >= 1 consecutive rows at x.
  (func (export "dot_block")
    (param $q i32) (param $x i32) (param $stride i32) (param $dimb i32) (param $n i32)
    (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (loop $rows
      (f32.store (local.get $out) (call $dot_row (local.get $q) (local.get $x) (local.get $dimb)))
      (local.set $x (i32.add (local.get $x) (local.get $stride)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $out) (local.get $end)))))

  ;; out[i] = l2sq(q, row slots[i]) for n >= 1 listed rows (i32 slot numbers at `slots`):
  ;; the graph index's neighbour lists, one call per expanded node.
  (func (export "l2sq_rows")
    (param $q i32) (param $base i32) (param $stride i32) (param $dimb i32) (param $slots i32)
    (param $n i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (loop $rows
      (f32.store (local.get $out)
        (call $l2sq_row (local.get $q)
          (i32.add (local.get $base) (i32.mul (i32.load (local.get $slots)) (local.get $stride)))
          (local.get $dimb) (f32.const inf)))
      (local.set $slots (i32.add (local.get $slots) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $out) (local.get $end)))))

  ;; out[i] = q . row slots[i] for n >= 1 listed rows.
  (func (export "dot_rows")
    (param $q i32) (param $base i32) (param $stride i32) (param $dimb i32) (param $slots i32)
    (param $n i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (loop $rows
      (f32.store (local.get $out)
        (call $dot_row (local.get $q)
          (i32.add (local.get $base) (i32.mul (i32.load (local.get $slots)) (local.get $stride)))
          (local.get $dimb)))
      (local.set $slots (i32.add (local.get $slots) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $out) (local.get $end)))))

  ;; Squared L2 between int8 codes x (dimb bytes) and the query q16 (the same codes widened to
  ;; i16, 2 x dimb bytes), exact in i32 for dim <= 33,000; abandons past `bound` like $l2sq_row.
  (func $l2sq_i8_row (param $q i32) (param $x i32) (param $dimb i32) (param $bound i32) (result i32)
    (local $p i32) (local $end32 i32) (local $stop i32) (local $s i32)
    (local $v v128) (local $d v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $end32 (i32.and (local.get $dimb) (i32.const -32)))
    (block $chunks_done
      (loop $chunks
        (br_if $chunks_done (i32.ge_u (local.get $p) (local.get $end32)))
        (local.set $stop (i32.add (local.get $p) (i32.const 256)))
        (if (i32.gt_u (local.get $stop) (local.get $end32))
          (then (local.set $stop (local.get $end32))))
        (loop $inner
          (local.set $v (v128.load (i32.add (local.get $x) (local.get $p))))
          (local.set $d (i16x8.sub (i16x8.extend_low_i8x16_s (local.get $v))
            (v128.load (i32.add (local.get $q) (i32.shl (local.get $p) (i32.const 1))))))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))
          (local.set $d (i16x8.sub (i16x8.extend_high_i8x16_s (local.get $v))
            (v128.load offset=16 (i32.add (local.get $q) (i32.shl (local.get $p) (i32.const 1))))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))
          (local.set $v (v128.load offset=16 (i32.add (local.get $x) (local.get $p))))
          (local.set $d (i16x8.sub (i16x8.extend_low_i8x16_s (local.get $v))
            (v128.load offset=32 (i32.add (local.get $q) (i32.shl (local.get $p) (i32.const 1))))))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))
          (local.set $d (i16x8.sub (i16x8.extend_high_i8x16_s (local.get $v))
            (v128.load offset=48 (i32.add (local.get $q) (i32.shl (local.get $p) (i32.const 1))))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (br_if $inner (i32.lt_u (local.get $p) (local.get $stop))))
        (local.set $s (call $hsum_i32
          (i32x4.add (i32x4.add (local.get $a0) (local.get $a1))
                     (i32x4.add (local.get $a2) (local.get $a3)))))
        (if (i32.gt_s (local.get $s) (local.get $bound)) (then (return (local.get $s))))
        (br $chunks)))
    (if (i32.lt_u (local.get $p) (local.get $dimb))
      (then
        (local.set $v (v128.load (i32.add (local.get $x) (local.get $p))))
        (local.set $d (i16x8.sub (i16x8.extend_low_i8x16_s (local.get $v))
          (v128.load (i32.add (local.get $q) (i32.shl (local.get $p) (i32.const 1))))))
        (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))
        (local.set $d (i16x8.sub (i16x8.extend_high_i8x16_s (local.get $v))
          (v128.load offset=16 (i32.add (local.get $q) (i32.shl (local.get $p) (i32.const 1))))))
        (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $d) (local.get $d))))))
    (call $hsum_i32
      (i32x4.add (i32x4.add (local.get $a0) (local.get $a1))
                 (i32x4.add (local.get $a2) (local.get $a3)))))

  ;; Inner product of int8 codes x with the widened query q16, exact in i32 for dim <= 131,000.
  (func $dot_i8_row (param $q i32) (param $x i32) (param $dimb i32) (result i32)
    (local $p i32) (local $v v128) (local $a0 v128) (local $a1 v128)
    (loop $main
      (local.set $v (v128.load (i32.add (local.get $x) (local.get $p))))
      (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s
        (i16x8.extend_low_i8x16_s (local.get $v))
        (v128.load (i32.add (local.get $q) (i32.shl (local.get $p) (i32.const 1)))))))
      (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s
        (i16x8.extend_high_i8x16_s (local.get $v))
        (v128.load offset=16 (i32.add (local.get $q) (i32.shl (local.get $p) (i32.const 1)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $main (i32.lt_u (local.get $p) (local.get $dimb))))
    (call $hsum_i32 (i32x4.add (local.get $a0) (local.get $a1))))

  ;; out[r] = integer squared L2 (or a partial sum > bound) for n >= 1 consecutive int8 rows.
  (func (export "l2sq_i8_block")
    (param $q i32) (param $x i32) (param $stride i32) (param $dimb i32) (param $n i32)
    (param $out i32) (param $bound i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (loop $rows
      (i32.store (local.get $out)
        (call $l2sq_i8_row (local.get $q) (local.get $x) (local.get $dimb) (local.get $bound)))
      (local.set $x (i32.add (local.get $x) (local.get $stride)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $out) (local.get $end)))))

  ;; out[r] = integer inner product for n >= 1 consecutive int8 rows.
  (func (export "dot_i8_block")
    (param $q i32) (param $x i32) (param $stride i32) (param $dimb i32) (param $n i32)
    (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (loop $rows
      (i32.store (local.get $out) (call $dot_i8_row (local.get $q) (local.get $x) (local.get $dimb)))
      (local.set $x (i32.add (local.get $x) (local.get $stride)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $out) (local.get $end))))))
