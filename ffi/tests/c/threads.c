/* 8 threads, each with its own encoder, encode the same image at the JND concurrently: every result
 * must be byte-identical to the serial one. */
#include <jnd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define W 96
#define H 64

static unsigned char pixels[W * H * 3];

struct job {
    uint8_t *out;
    size_t len;
    int quality;
    int status;
};

static void *encode(void *arg) {
    struct job *job = arg;
    JndEncoder *enc = jnd_encoder_new();
    job->status = enc ? jnd_encode(enc, pixels, W, H, W * 3, JND_PIXEL_RGB8, &job->out, &job->len, &job->quality)
                      : JND_ERROR_INTERNAL;
    jnd_encoder_free(enc);
    return NULL;
}

int main(void) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned char *p = pixels + (y * W + x) * 3;
            p[0] = (unsigned char)(x * 255 / W);
            p[1] = (unsigned char)(y * 255 / H);
            p[2] = (unsigned char)(((x / 8 + y / 8) % 2) * 200 + (x * y) % 50);
        }
    struct job serial = {0};
    encode(&serial);
    if (serial.status != JND_OK) {
        fprintf(stderr, "serial encode failed: %d\n", serial.status);
        return 1;
    }
    pthread_t threads[THREADS];
    struct job jobs[THREADS];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, encode, &jobs[i]);
    for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        if (jobs[i].status != JND_OK || jobs[i].len != serial.len || jobs[i].quality != serial.quality ||
            memcmp(jobs[i].out, serial.out, serial.len) != 0) {
            fprintf(stderr, "thread %d differs: status %d, %zu bytes at q%d vs %zu at q%d\n", i, jobs[i].status,
                    jobs[i].len, jobs[i].quality, serial.len, serial.quality);
            failures++;
        }
        jnd_free_buffer(jobs[i].out, jobs[i].len);
    }
    printf("threads: %d of %d identical to serial (q%d, %zu bytes)\n", THREADS - failures, THREADS, serial.quality,
           serial.len);
    jnd_free_buffer(serial.out, serial.len);
    return failures ? 1 : 0;
}
