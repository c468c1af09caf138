//! libjnd's entry points with arbitrary settings, dimensions, strides and pixel formats (the buffer
//! always honours the size the call claims, as the C contract requires), and NULL pointers.
#![no_main]

use std::ffi::c_int;

use jnd::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [w, h, pad, fmt, q, target, format, flags, pixels @ ..] = data else { return };
    let (width, height) = (u32::from(*w % 40), u32::from(*h % 40));
    let pixel_format = c_int::from(*fmt % 4); // 3 is not a format
    let channels = match pixel_format {
        JND_PIXEL_GRAY8 => 1,
        JND_PIXEL_RGBA8 => 4,
        _ => 3,
    };
    let stride = width as usize * channels + usize::from(*pad % 8);
    // A stride too small for the width is a caller error the ABI must report, not read past.
    let stride = if flags & 1 == 1 { stride.saturating_sub(1) } else { stride };
    let len = stride * height as usize + width as usize * channels;
    let buffer: Vec<u8> =
        if pixels.is_empty() { vec![0; len] } else { pixels.iter().copied().cycle().take(len).collect() };
    let ptr = if flags & 2 == 2 { std::ptr::null() } else { buffer.as_ptr() };
    unsafe {
        let encoder = jnd_encoder_new();
        assert!(!encoder.is_null());
        let _ = jnd_encoder_set_format(encoder, c_int::from(*format % 3));
        let _ = jnd_encoder_set_target(encoder, c_int::from(*target % 3));
        let _ = jnd_encoder_set_quality(encoder, if flags & 4 == 4 { -1 } else { c_int::from(*q) - 20 });
        let _ = jnd_encoder_set_threads(encoder, c_int::from(flags >> 4) - 1);
        let (mut out, mut out_len, mut quality) = (std::ptr::null_mut(), 0usize, 0 as c_int);
        let status = jnd_encode(
            encoder,
            ptr,
            width,
            height,
            stride,
            pixel_format,
            &mut out,
            &mut out_len,
            &mut quality,
        );
        if status == JND_OK {
            assert!(!out.is_null() && out_len > 0);
            jnd_free_buffer(out, out_len);
        } else {
            assert!(out.is_null() && out_len == 0);
            assert!(!jnd_last_error(encoder).is_null());
        }
        // The pixel-wise JND map through the same caller-image checks, into a buffer sized (or not) for it.
        let mut map = vec![0.0f32; (width * height) as usize + usize::from(*pad % 2)];
        let map_len = if flags & 32 == 32 { map.len().saturating_sub(1) } else { map.len() };
        let status =
            jnd_pixel_jnd_map(encoder, ptr, width, height, stride, pixel_format, map.as_mut_ptr(), map_len);
        if status == JND_OK {
            assert!(map.iter().all(|v| v.is_finite() && *v >= 0.0));
        }
        // The machine maps and the judge through the same checks (the DMV-JND loads on first use).
        if flags & 64 == 64 {
            let mut luma = vec![0.0f32; map.len()];
            let status = jnd_machine_jnd_components(
                encoder,
                ptr,
                width,
                height,
                stride,
                pixel_format,
                luma.as_mut_ptr(),
                map.as_mut_ptr(),
                map_len,
            );
            if status == JND_OK {
                assert!(luma.iter().chain(&map).all(|v| v.is_finite() && *v >= 0.0));
            }
            let mut lossless: c_int = -1;
            let status =
                jnd_judge(encoder, ptr, ptr, width, height, stride, pixel_format, &mut lossless);
            if status == JND_OK {
                assert!(lossless == 0 || lossless == 1);
            }
        }
        if flags & 8 == 8 {
            let status = jnd_encode(
                encoder,
                ptr,
                width,
                height,
                stride,
                pixel_format,
                std::ptr::null_mut(),
                &mut out_len,
                &mut quality,
            );
            assert_eq!(status, JND_ERROR_NULL_POINTER);
        }
        jnd_encoder_free(encoder);
    }
});
