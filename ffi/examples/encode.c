/* encode: the libjnd C API end to end.
 *
 *   encode [-q QUALITY] [-heif] [-strict] input.ppm output
 *
 * Reads a binary PPM (P6) or PGM (P5), encodes it at the just-noticeable-difference quality chosen by
 * libjnd's embedded model (or at -q QUALITY), writes the file and prints the quality used.
 *
 *   cc encode.c $(pkg-config --cflags --libs jnd) -o encode
 */
#include <jnd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_pnm(const char *path, uint32_t *w, uint32_t *h, int *format) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char magic[3] = {0};
    unsigned width = 0, height = 0, maxval = 0;
    if (fscanf(f, "%2s %u %u %u", magic, &width, &height, &maxval) != 4 || maxval != 255 ||
        (strcmp(magic, "P6") != 0 && strcmp(magic, "P5") != 0) || width == 0 || height == 0) {
        fclose(f);
        return NULL;
    }
    fgetc(f); /* the single whitespace after maxval */
    int channels = strcmp(magic, "P6") == 0 ? 3 : 1;
    size_t size = (size_t)width * height * channels;
    unsigned char *pixels = malloc(size);
    if (!pixels || fread(pixels, 1, size, f) != size) {
        free(pixels);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *w = width;
    *h = height;
    *format = channels == 3 ? JND_PIXEL_RGB8 : JND_PIXEL_GRAY8;
    return pixels;
}

int main(int argc, char **argv) {
    int quality = -1, heif = 0, strict = 0, arg = 1;
    for (; arg < argc && argv[arg][0] == '-'; arg++) {
        if (strcmp(argv[arg], "-q") == 0 && arg + 1 < argc) quality = atoi(argv[++arg]);
        else if (strcmp(argv[arg], "-heif") == 0) heif = 1;
        else if (strcmp(argv[arg], "-strict") == 0) strict = 1;
        else break;
    }
    if (argc - arg != 2) {
        fprintf(stderr, "usage: %s [-q QUALITY] [-heif] [-strict] input.ppm output\n", argv[0]);
        return 1;
    }
    uint32_t width, height;
    int format;
    unsigned char *pixels = read_pnm(argv[arg], &width, &height, &format);
    if (!pixels) {
        fprintf(stderr, "cannot read %s as binary PPM/PGM\n", argv[arg]);
        return 1;
    }
    JndEncoder *enc = jnd_encoder_new();
    int status = enc ? JND_OK : JND_ERROR_INTERNAL;
    if (status == JND_OK && heif) status = jnd_encoder_set_format(enc, JND_FORMAT_HEIF);
    if (status == JND_OK && strict) status = jnd_encoder_set_target(enc, JND_TARGET_STRICT);
    if (status == JND_OK) status = jnd_encoder_set_quality(enc, quality);
    uint8_t *out = NULL;
    size_t out_len = 0;
    int used = 0;
    size_t stride = (size_t)width * (format == JND_PIXEL_RGB8 ? 3 : 1);
    if (status == JND_OK)
        status = jnd_encode(enc, pixels, width, height, stride, format, &out, &out_len, &used);
    free(pixels);
    if (status == JND_WARNING) fprintf(stderr, "warning: %s\n", jnd_last_error(enc));
    if (status < 0) {
        fprintf(stderr, "jnd_encode failed (%d): %s\n", status, jnd_last_error(enc));
        jnd_encoder_free(enc);
        return 1;
    }
    FILE *f = fopen(argv[arg + 1], "wb");
    int ok = f && fwrite(out, 1, out_len, f) == out_len;
    if (f) ok &= fclose(f) == 0;
    jnd_free_buffer(out, out_len);
    jnd_encoder_free(enc);
    if (!ok) {
        fprintf(stderr, "cannot write %s\n", argv[arg + 1]);
        return 1;
    }
    printf("quality %d, %zu bytes (libjnd %s)\n", used, out_len, jnd_version());
    return 0;
}
