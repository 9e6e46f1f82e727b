// The libvips side of the transforms package. Everything here runs on
// untrusted bytes, so it only ever uses the loaders named in render.c.

#ifndef SATCHEL_RENDER_H
#define SATCHEL_RENDER_H

#include <stddef.h>

enum satchel_fit {
	SATCHEL_FIT_COVER,
	SATCHEL_FIT_CONTAIN,
	SATCHEL_FIT_FILL,
	SATCHEL_FIT_INSIDE
};

enum satchel_format {
	SATCHEL_FORMAT_JPEG,
	SATCHEL_FORMAT_PNG,
	SATCHEL_FORMAT_WEBP,
	SATCHEL_FORMAT_AVIF
};

enum satchel_status {
	SATCHEL_OK,
	SATCHEL_UNTRUSTED, /* no trusted loader recognises the bytes */
	SATCHEL_UNREADABLE, /* a trusted loader failed: corrupt or truncated */
	SATCHEL_FAILED /* processing or encoding failed */
};

typedef struct {
	int width;  /* 0 = free */
	int height; /* 0 = free */
	int fit;
	int format;
	int quality;
	int strip;
	int autorotate;
	int icc; /* the input has an ICC profile: convert through it to sRGB */
} satchel_params;

typedef struct {
	int width;
	int height;
	int icc;            /* has an embedded ICC profile */
	const char *loader; /* static string, e.g. "jpegload_buffer" */
} satchel_header;

void satchel_configure(int concurrency);
int satchel_header_read(const void *buf, size_t len, satchel_header *out, char **errmsg);
int satchel_render(const void *buf, size_t len, const satchel_params *p,
	void **out, size_t *out_len, char **errmsg);
int satchel_can_write_avif(void);
int satchel_operation_blocked(const char *nickname);

#endif
