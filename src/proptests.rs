//! Property tests (unit tests: the crate's test build has the engine stub they need) of the parts that do not need a JS engine: type codes, struct layouts
//! (C rules, agreement with libffi, no panic on any input), field paths, the register plans
//! of direct calls, and the integer encoding of argument slots at every width.

use std::sync::Arc;

use crate::direct::{DirectPlan, Reg, FP_REGS, INT_REGS};
use crate::layout::{FieldKind, StructLayout, MAX_STRUCT_SIZE};
use crate::signature::ArgType;
use crate::structs::offset_of;
use crate::types::FfiType;
use libffi::middle::Cif;
use proptest::prelude::*;

fn any_type() -> impl Strategy<Value = FfiType> {
    (0usize..FfiType::ALL.len()).prop_map(|i| FfiType::ALL[i])
}

fn any_kind() -> impl Strategy<Value = FieldKind> {
    let leaf = any_type().prop_map(FieldKind::Scalar);
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            (inner.clone(), 0usize..6).prop_map(|(k, n)| FieldKind::Array {
                element: Box::new(k),
                length: n
            }),
            prop::collection::vec(inner, 0..6).prop_filter_map("valid nested struct", |kinds| {
                let fields = kinds
                    .into_iter()
                    .enumerate()
                    .map(|(i, k)| (format!("n{i}"), k))
                    .collect();
                StructLayout::new(fields)
                    .ok()
                    .map(|l| FieldKind::Struct(Arc::new(l)))
            }),
        ]
    })
}

fn contains_void_or_empty(k: &FieldKind) -> bool {
    match k {
        FieldKind::Scalar(t) => *t == FfiType::Void,
        FieldKind::Struct(_) => false,
        FieldKind::Array { element, length } => *length == 0 || contains_void_or_empty(element),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn type_codes_never_panic(code in any::<f64>()) {
        let t = FfiType::from_code(code);
        let valid = code.fract() == 0.0 && (0.0..FfiType::ALL.len() as f64).contains(&code);
        prop_assert_eq!(t.is_some(), valid);
    }

    #[test]
    fn layouts_obey_c_rules_or_fail_cleanly(kinds in prop::collection::vec(any_kind(), 0..10)) {
        let bad = kinds.is_empty() || kinds.iter().any(contains_void_or_empty);
        let fields: Vec<_> = kinds.into_iter().enumerate().map(|(i, k)| (format!("f{i}"), k)).collect();
        match StructLayout::new(fields) {
            Err(msg) => prop_assert!(bad, "refused a valid struct: {}", msg),
            Ok(l) => {
                prop_assert!(!bad);
                let mut end = 0;
                let mut max_align = 1;
                for f in &l.fields {
                    let a = f.kind.align();
                    prop_assert!(a.is_power_of_two());
                    prop_assert_eq!(f.offset % a, 0, "misaligned field");
                    prop_assert!(f.offset >= end, "overlapping fields");
                    prop_assert!(f.offset - end < a, "more padding than alignment needs");
                    end = f.offset + f.kind.size();
                    max_align = max_align.max(a);
                }
                prop_assert_eq!(l.align, max_align);
                prop_assert_eq!(l.size % l.align, 0);
                prop_assert!(l.size >= end && l.size - end < l.align);
                prop_assert!(l.size <= MAX_STRUCT_SIZE);
                // libffi computes the same size and alignment for the struct type.
                let ty = l.ffi_type();
                let cif = Cif::new(vec![ty.clone()], ty);
                // SAFETY: the CIF was prepared; its rtype is the struct type.
                let (size, align) = unsafe {
                    let r = (*cif.as_raw_ptr()).rtype;
                    ((*r).size, (*r).alignment as usize)
                };
                prop_assert_eq!((size, align), (l.size, l.align));
                for f in &l.fields {
                    prop_assert_eq!(offset_of(&l, &f.name), Ok(f.offset));
                }
            }
        }
    }

    #[test]
    fn field_paths_never_panic(path in "[a-z0-9\\[\\]\\.]{0,20}") {
        let inner = Arc::new(StructLayout::new(vec![("x".into(), FieldKind::Scalar(FfiType::I32))]).unwrap());
        let l = StructLayout::new(vec![
            ("a".into(), FieldKind::Array { element: Box::new(FieldKind::Struct(inner.clone())), length: 3 }),
            ("b".into(), FieldKind::Struct(inner)),
        ]).unwrap();
        if let Ok(off) = offset_of(&l, &path) {
            prop_assert!(off < l.size);
        }
    }

    #[test]
    fn direct_plans_use_each_register_once(types in prop::collection::vec(any_type(), 0..20), ret in any_type()) {
        let args: Vec<ArgType> = types.iter().map(|t| ArgType::Scalar(*t)).collect();
        let plan = DirectPlan::new(&args, &ArgType::Scalar(ret));
        let floats = types.iter().filter(|t| matches!(t, FfiType::F32 | FfiType::F64)).count();
        let ints = types.len() - floats;
        prop_assert_eq!(plan.is_some(), ints <= INT_REGS && floats <= FP_REGS);
        if let Some(plan) = plan {
            let (mut i, mut f) = (0u8, 0u8);
            for (t, r) in types.iter().zip(plan.regs.iter()) {
                if matches!(t, FfiType::F32 | FfiType::F64) {
                    prop_assert_eq!(*r, Reg::Fp(f));
                    f += 1;
                } else {
                    prop_assert_eq!(*r, Reg::Int(i));
                    i += 1;
                }
            }
            prop_assert_eq!(plan.float_result, matches!(ret, FfiType::F32 | FfiType::F64));
        }
    }

    #[test]
    fn integer_slots_round_trip_at_every_width(t in any_type(), seed in any::<u64>()) {
        if let Some((lo, hi)) = t.int_range() {
            // A value in range, spread over the whole range.
            let span = (hi - lo) as u128 + 1;
            let v = lo + ((seed as u128 * 0x9e37_79b9_7f4a_7c15u128) % span) as i128;
            let slot = crate::convert::encode_int(v);
            let back = crate::convert::decode_int(t, slot);
            if t == FfiType::Char {
                // char takes -128..255 in and comes back with the ABI's signedness: same byte.
                prop_assert_eq!(back.map(|b| b as u8), Some(v as u8));
            } else {
                prop_assert_eq!(back, Some(v));
            }
            // The low `size` bytes are the C value's bytes.
            let bytes = slot.to_le_bytes();
            let mut narrow = [0u8; 8];
            narrow[..t.size()].copy_from_slice(&bytes[..t.size()]);
            let sign_fill = if v < 0 { 0xff } else { 0 };
            for b in narrow.iter_mut().skip(t.size()) { *b = sign_fill; }
            let signed_back = i64::from_le_bytes(narrow) as i128;
            let unsigned_back = u64::from_le_bytes(narrow) as i128;
            prop_assert!(signed_back == v || unsigned_back == v);
        }
    }
}
