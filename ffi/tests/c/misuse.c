/* Misuse of the C API: every call returns an error code and a message, nothing crashes. */
#include <jnd.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

static int failures = 0;

#define EXPECT(call, status)                                                                  \
    do {                                                                                      \
        int got = (call);                                                                     \
        if (got != (status)) {                                                                \
            fprintf(stderr, "line %d: %s gave %d, expected %d\n", __LINE__, #call, got, status); \
            failures++;                                                                       \
        }                                                                                     \
    } while (0)

#define EXPECT_MESSAGE(enc, needle)                                                            \
    do {                                                                                      \
        const char *m = jnd_last_error(enc);                                                  \
        if (!m || !strstr(m, needle)) {                                                       \
            fprintf(stderr, "line %d: message '%s' lacks '%s'\n", __LINE__, m ? m : "(null)", needle); \
            failures++;                                                                       \
        }                                                                                     \
    } while (0)

int main(void) {
    unsigned char pixels[16 * 16 * 3];
    memset(pixels, 128, sizeof pixels);
    uint8_t *out = NULL;
    size_t len = 0;
    int quality = 0;
    float map[16 * 16], luma[16 * 16], chroma[16 * 16];

    /* NULL handles. */
    EXPECT(jnd_encoder_set_format(NULL, JND_FORMAT_JPEG), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_encode(NULL, pixels, 16, 16, 48, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_predict_quality(NULL, pixels, 16, 16, 48, JND_PIXEL_RGB8, &quality), JND_ERROR_NULL_POINTER);
    jnd_encoder_free(NULL);
    jnd_free_buffer(NULL, 0);
    if (!jnd_last_error(NULL)) failures++;

    JndEncoder *enc = jnd_encoder_new();
    if (!enc) return 2;
    /* NULL buffers. */
    EXPECT(jnd_encode(enc, NULL, 16, 16, 48, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_NULL_POINTER);
    EXPECT_MESSAGE(enc, "pixels is NULL");
    EXPECT(jnd_encode(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, NULL, &len, NULL), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_encode(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, &out, NULL, NULL), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_predict_quality(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, NULL), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_pixel_jnd_map(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, NULL, 256), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_machine_jnd_map(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, NULL, 256), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_machine_jnd_map(NULL, pixels, 16, 16, 48, JND_PIXEL_RGB8, map, 256), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_machine_jnd_components(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, NULL, chroma, 256), JND_ERROR_NULL_POINTER);
    EXPECT_MESSAGE(enc, "an output map is NULL");
    EXPECT(jnd_machine_jnd_components(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, map, NULL, 256), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_machine_jnd_components(NULL, pixels, 16, 16, 48, JND_PIXEL_RGB8, map, chroma, 256), JND_ERROR_NULL_POINTER);
    /* Zero and oversized dimensions. */
    EXPECT(jnd_encode(enc, pixels, 0, 16, 48, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "empty picture");
    EXPECT(jnd_encode(enc, pixels, 16, 0, 48, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_INVALID_ARGUMENT);
    /* Limits have a code of their own. */
    EXPECT(jnd_encode(enc, pixels, 70000, 16, 210000, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_LIMITS);
    EXPECT_MESSAGE(enc, "exceed the limit of 65500 pixels per side");
    EXPECT(jnd_encode(enc, pixels, 60000, 60000, 180000, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_LIMITS);
    /* Stride smaller than a row. */
    EXPECT(jnd_encode(enc, pixels, 16, 16, 47, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "stride 47 is smaller than a row (48 bytes)");
    /* A stride whose span stride * (height - 1) + row overflows size_t is refused before any read. */
    EXPECT(jnd_encode(enc, pixels, 16, 3, SIZE_MAX / 2, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "overflows");
    EXPECT(jnd_judge(enc, pixels, pixels, 16, 3, SIZE_MAX / 2, JND_PIXEL_RGB8, &quality), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "overflows");
    /* The pixel limit is the library's: 2^28 pixels; one row more is refused (before any read). */
    if (JND_MAX_PIXELS != 268435456ull) {
        fprintf(stderr, "JND_MAX_PIXELS is %llu, not the library's 2^28\n", (unsigned long long)JND_MAX_PIXELS);
        failures++;
    }
    EXPECT(jnd_encode(enc, pixels, 16384, 16385, 16384 * 3, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_LIMITS);
    EXPECT_MESSAGE(enc, "268435456 pixels");
    /* Unknown enum values and bad settings. */
    EXPECT(jnd_encode(enc, pixels, 16, 16, 48, 7, &out, &len, NULL), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "unknown pixel format 7");
    EXPECT(jnd_encoder_set_format(enc, 9), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "unknown format 9");
    EXPECT(jnd_encoder_set_target(enc, -3), JND_ERROR_INVALID_ARGUMENT);
    EXPECT(jnd_encoder_set_distance(enc, NAN), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "distance: ");
    EXPECT(jnd_encoder_set_distance(enc, 11.0), JND_ERROR_INVALID_ARGUMENT);
    EXPECT(jnd_encoder_set_distance(enc, 0.0), JND_ERROR_INVALID_ARGUMENT);
    EXPECT(jnd_encoder_set_distance(enc, 1.5), JND_OK);
    EXPECT(jnd_encoder_set_target(enc, JND_TARGET_SUR75), JND_OK);
    EXPECT(jnd_encoder_set_quality(enc, 101), JND_ERROR_INVALID_ARGUMENT);
    EXPECT(jnd_encoder_set_quality_bounds(enc, 80, 20), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "min-quality and max-quality: 80 is above 20");
    /* Any option by its vocabulary name. */
    EXPECT(jnd_encoder_set_option(enc, "block", "11"), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "block: 11 is outside 1..10");
    EXPECT(jnd_encoder_set_option(enc, "no-such-option", "1"), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "unknown option");
    EXPECT(jnd_encoder_set_option(enc, "search", "sideways"), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "search: unknown value \"sideways\" (expected prior, block)");
    EXPECT(jnd_encoder_set_option(enc, "block", "4"), JND_OK);
    EXPECT(jnd_encoder_set_option(enc, "block", NULL), JND_OK);
    EXPECT(jnd_encoder_set_option(enc, NULL, "4"), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_encoder_set_sampling(enc, 9), JND_ERROR_INVALID_ARGUMENT);
    EXPECT(jnd_encoder_set_strip(enc, -1), JND_ERROR_INVALID_ARGUMENT);
    EXPECT(jnd_encoder_set_decider(enc, 5), JND_ERROR_INVALID_ARGUMENT);
    EXPECT(jnd_encoder_set_search(enc, 2), JND_ERROR_INVALID_ARGUMENT);
    EXPECT(jnd_encoder_set_threads(enc, -1), JND_ERROR_INVALID_ARGUMENT);
    EXPECT(jnd_encoder_set_device(NULL, JND_DEVICE_CPU), JND_ERROR_NULL_POINTER);
    EXPECT(jnd_encoder_set_device(enc, 7), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "unknown device 7");
    /* This test links the default build, which has no GPU backend: refused by name, and the handle
       keeps the CPU (the machine map below still runs). */
    EXPECT(jnd_encoder_set_device(enc, JND_DEVICE_CUDA), JND_ERROR_DEVICE_UNAVAILABLE);
    EXPECT_MESSAGE(enc, "`cuda` cargo feature");
    EXPECT(jnd_encoder_set_device(enc, JND_DEVICE_WGPU), JND_ERROR_DEVICE_UNAVAILABLE);
    EXPECT_MESSAGE(enc, "`wgpu` cargo feature");
    EXPECT(jnd_encoder_set_device(enc, JND_DEVICE_CPU), JND_OK);
    /* A map buffer that is too small. */
    EXPECT(jnd_pixel_jnd_map(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, map, 255), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "256 needed");
    EXPECT(jnd_machine_jnd_map(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, map, 255), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "256 needed");
    EXPECT(jnd_machine_jnd_components(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, map, chroma, 255), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "256 needed");
    /* Failures leave the out pointers cleared. */
    if (out != NULL || len != 0) {
        fprintf(stderr, "failed calls must leave out = NULL, len = 0\n");
        failures++;
    }
    /* The machine target: a fixed base quality (nothing to predict) and a real JPEG out, on the
       machine tables. */
    EXPECT(jnd_encoder_set_target(enc, JND_TARGET_MACHINE), JND_OK);
    EXPECT(jnd_predict_quality(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, &quality), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "no quality to predict");
    EXPECT(jnd_encode(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, &out, &len, &quality), JND_OK);
    if (len < 100 || out == NULL || out[0] != 0xFF || out[1] != 0xD8 || quality != 75) {
        fprintf(stderr, "machine target: %zu bytes, quality %d\n", len, quality);
        failures++;
    }
    jnd_free_buffer(out, len);
    out = NULL;
    len = 0;
    EXPECT(jnd_encoder_set_target(enc, JND_TARGET_SUR75), JND_OK);
    /* And the handle still works afterwards. */
    EXPECT(jnd_pixel_jnd_map(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, map, 256), JND_OK);
    EXPECT(jnd_machine_jnd_map(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, map, 256), JND_OK);
    for (int i = 0; i < 256; i++) {
        if (!(map[i] >= 0.0f && map[i] <= 255.0f)) {
            fprintf(stderr, "machine JND map value %d out of range: %f\n", i, map[i]);
            failures++;
            break;
        }
    }
    /* Per component: |dY| is a weighted mean of the channel changes, so at most 3x their mean magnitude. */
    EXPECT(jnd_machine_jnd_components(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, luma, chroma, 256), JND_OK);
    for (int i = 0; i < 256; i++) {
        if (!(luma[i] >= 0.0f && chroma[i] >= 0.0f && luma[i] <= 3.0f * map[i] + 1e-3f)) {
            fprintf(stderr, "component maps at %d: luma %f chroma %f mean |RGB| %f\n", i, luma[i], chroma[i], map[i]);
            failures++;
            break;
        }
    }
    /* The judge runs on the handle's own pool and gives the same verdict as on the global one. */
    int lossless_global = -1, lossless_pool = -1;
    EXPECT(jnd_judge(enc, pixels, pixels, 16, 16, 48, JND_PIXEL_RGB8, &lossless_global), JND_OK);
    EXPECT(jnd_encoder_set_threads(enc, 2), JND_OK);
    EXPECT(jnd_encoder_set_threads(enc, 3), JND_OK); /* replacing a pool */
    EXPECT(jnd_judge(enc, pixels, pixels, 16, 16, 48, JND_PIXEL_RGB8, &lossless_pool), JND_OK);
    if (lossless_global != 1 || lossless_pool != 1) {
        fprintf(stderr, "an image judged against itself: %d (global pool), %d (own pool), expected 1\n",
                lossless_global, lossless_pool);
        failures++;
    }
    /* A fixed quality with a target set: the target has no effect, a warning as cjpeg's exit 2. */
    EXPECT(jnd_encoder_set_quality(enc, 80), JND_OK);
    EXPECT(jnd_encode(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, &out, &len, &quality), JND_WARNING);
    EXPECT_MESSAGE(enc, "target has no effect: the quality is fixed");
    if (!out || len < 100 || out[0] != 0xFF || out[1] != 0xD8 || quality != 80) {
        fprintf(stderr, "a valid call after errors did not give a JPEG\n");
        failures++;
    }
    jnd_free_buffer(out, len);
    /* The codec choice: an unknown value is refused; jpegli writes a different, valid JPEG; a named
       JPEG codec with HEIF output is refused at the encode, by name. */
    EXPECT(jnd_encoder_set_codec(enc, 7), JND_ERROR_INVALID_ARGUMENT);
    EXPECT_MESSAGE(enc, "unknown codec 7");
    for (int i = 0; i < 16 * 16 * 3; i++) pixels[i] = (unsigned char)((i * 37) ^ (i / 48 * 11));
    uint8_t *moz = NULL, *li = NULL;
    size_t moz_len = 0, li_len = 0;
    EXPECT(jnd_encoder_set_codec(enc, JND_CODEC_MOZJPEG), JND_OK);
    /* Still at quality 80 with the target set above: encoded, with the warning. */
    EXPECT(jnd_encode(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, &moz, &moz_len, NULL), JND_WARNING);
    EXPECT(jnd_encoder_set_codec(enc, JND_CODEC_JPEGLI), JND_OK);
    EXPECT(jnd_encode(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, &li, &li_len, NULL), JND_WARNING);
    if (!moz || !li || li[0] != 0xFF || li[1] != 0xD8 || (moz_len == li_len && !memcmp(moz, li, li_len))) {
        fprintf(stderr, "jpegli and mozjpeg did not give two different JPEGs\n");
        failures++;
    }
    jnd_free_buffer(moz, moz_len);
    jnd_free_buffer(li, li_len);
    EXPECT(jnd_encoder_set_format(enc, JND_FORMAT_HEIF), JND_OK);
    EXPECT(jnd_encode(enc, pixels, 16, 16, 48, JND_PIXEL_RGB8, &out, &len, NULL), JND_ERROR_UNSUPPORTED);
    EXPECT_MESSAGE(enc, "codec jpegli writes JPEG, not HEIF");
    jnd_encoder_free(enc);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("misuse: all checks passed\n");
    return failures ? 1 : 0;
}
