#include <vips/vips.h>

#include "render.h"

/* The loaders we accept input with, by class name (what
 * vips_foreign_find_load_buffer() returns) and nickname. Anything else libvips
 * could open (PDF, SVG, ImageMagick, FITS, ...) is refused even before
 * vips_block_untrusted_set() would refuse it: it is attack surface a photo
 * upload service does not need.
 */
static const struct {
	const char *class_name;
	const char *nickname;
} trusted_loaders[] = {
	{ "VipsForeignLoadJpegBuffer", "jpegload_buffer" },
	{ "VipsForeignLoadPngBuffer", "pngload_buffer" },
	{ "VipsForeignLoadWebpBuffer", "webpload_buffer" },
	{ "VipsForeignLoadNsgifBuffer", "gifload_buffer" },
	{ "VipsForeignLoadTiffBuffer", "tiffload_buffer" },
	{ "VipsForeignLoadHeifBuffer", "heifload_buffer" },
};

static const char *
trusted_loader(const void *buf, size_t len)
{
	const char *class_name = vips_foreign_find_load_buffer(buf, len);
	size_t i;

	if (!class_name)
		return NULL;
	for (i = 0; i < G_N_ELEMENTS(trusted_loaders); i++)
		if (strcmp(class_name, trusted_loaders[i].class_name) == 0)
			return trusted_loaders[i].nickname;
	vips_error("satchel", "%s is not an accepted loader", class_name);
	return NULL;
}

static void
drop_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
	gpointer data)
{
}

void
satchel_configure(int concurrency)
{
	vips_block_untrusted_set(TRUE);
	/* A hostile file can make a loader warn hundreds of times; the
	 * messages that matter come back as the render's error instead.
	 */
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, drop_log, NULL);
	if (concurrency > 0)
		vips_concurrency_set(concurrency);
}

int
satchel_header_read(const void *buf, size_t len, satchel_header *h,
	char **errmsg)
{
	VipsImage *image;
	int status = SATCHEL_UNTRUSTED;

	*errmsg = NULL;
	h->width = h->height = h->icc = 0;
	if (!(h->loader = trusted_loader(buf, len)))
		goto done;

	/* Opening is lazy: this parses the header and decodes no pixels. */
	status = SATCHEL_UNREADABLE;
	if (!(image = vips_image_new_from_buffer(buf, len, "",
		      "access", VIPS_ACCESS_SEQUENTIAL, NULL)))
		goto done;
	h->width = image->Xsize;
	h->height = image->Ysize;
	h->icc = vips_image_get_typeof(image, VIPS_META_ICC_NAME) != 0;
	g_object_unref(image);
	status = SATCHEL_OK;

done:
	if (status != SATCHEL_OK)
		*errmsg = vips_error_buffer_copy();
	vips_thread_shutdown();
	return status;
}

static int
save(VipsImage *in, const satchel_params *p, void **out, size_t *out_len)
{
	switch (p->format) {
	case SATCHEL_FORMAT_JPEG:
		return vips_jpegsave_buffer(in, out, out_len,
			"Q", p->quality,
			"strip", p->strip,
			"optimize_coding", TRUE,
			NULL);
	case SATCHEL_FORMAT_PNG:
		return vips_pngsave_buffer(in, out, out_len,
			"compression", 6,
			"filter", VIPS_FOREIGN_PNG_FILTER_ALL,
			"strip", p->strip,
			NULL);
	case SATCHEL_FORMAT_WEBP:
		return vips_webpsave_buffer(in, out, out_len,
			"Q", p->quality,
			"strip", p->strip,
			NULL);
	case SATCHEL_FORMAT_AVIF:
		return vips_heifsave_buffer(in, out, out_len,
			"Q", p->quality,
			"strip", p->strip,
			"compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
			NULL);
	}
	vips_error("satchel", "unknown output format %d", p->format);
	return -1;
}

int
satchel_render(const void *buf, size_t len, const satchel_params *p,
	void **out, size_t *out_len, char **errmsg)
{
	VipsImage *base = vips_image_new();
	VipsImage **t = (VipsImage **) vips_object_local_array(
		VIPS_OBJECT(base), 6);
	VipsImage *in;
	int box = p->width > 0 && p->height > 0;
	int width = p->width > 0 ? p->width : VIPS_MAX_COORD;
	int height = p->height > 0 ? p->height : VIPS_MAX_COORD;
	VipsSize size = VIPS_SIZE_DOWN;
	VipsInteresting crop = VIPS_INTERESTING_NONE;
	int status = SATCHEL_UNTRUSTED;

	*out = NULL;
	*out_len = 0;
	*errmsg = NULL;

	if (!trusted_loader(buf, len))
		goto done;

	if (box && p->fit == SATCHEL_FIT_COVER) {
		size = VIPS_SIZE_BOTH;
		crop = VIPS_INTERESTING_CENTRE;
	}
	else if (box && p->fit == SATCHEL_FIT_FILL)
		size = VIPS_SIZE_FORCE;

	/* vips_thumbnail does shrink-on-load (JPEG, WebP, HEIF), premultiplies
	 * alpha before resampling, turns the pixels upright and drops the
	 * orientation tag (unless no_rotate), and leaves 8-bit sRGB (or B_W):
	 * through the embedded ICC profile when there is one (export_profile),
	 * else by a plain colourspace conversion. export_profile is only given
	 * for images with a profile: without one it would build an lcms
	 * transform for nothing, milliseconds per render.
	 */
	status = SATCHEL_UNREADABLE;
	if (vips_thumbnail_buffer((void *) buf, len, &t[0], width,
		    "height", height,
		    "size", size,
		    "crop", crop,
		    "no_rotate", !p->autorotate,
		    "export_profile", p->icc ? "srgb" : NULL,
		    /* thumbnail's own fail_on never reaches buffer loaders
		     * (libvips 8.14 to 8.17); the loader option string does.
		     */
		    "option_string", "fail_on=truncated",
		    NULL))
		goto done;

	/* The pipeline is lazy: run it now, at output size, so a corrupt or
	 * truncated input fails here and not inside the encoder.
	 */
	if (!(t[1] = vips_image_copy_memory(t[0])))
		goto done;
	in = t[1];

	status = SATCHEL_FAILED;
	if (p->format == SATCHEL_FORMAT_JPEG && vips_image_hasalpha(in)) {
		VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
		int failed = vips_flatten(in, &t[2],
			"background", white, NULL);

		vips_area_unref(VIPS_AREA(white));
		if (failed)
			goto done;
		in = t[2];
	}

	if (box && p->fit == SATCHEL_FIT_CONTAIN &&
		(in->Xsize != p->width || in->Ysize != p->height)) {
		int left = (p->width - in->Xsize) / 2;
		int top = (p->height - in->Ysize) / 2;
		VipsExtend extend = VIPS_EXTEND_WHITE;

		if (p->format != SATCHEL_FORMAT_JPEG) {
			/* Transparent padding: an alpha band set to zero. */
			if (!vips_image_hasalpha(in)) {
				if (vips_addalpha(in, &t[3], NULL))
					goto done;
				in = t[3];
			}
			extend = VIPS_EXTEND_BLACK;
		}
		if (vips_embed(in, &t[4], left, top, p->width, p->height,
			    "extend", extend, NULL))
			goto done;
		in = t[4];
	}

	if (save(in, p, out, out_len))
		goto done;
	status = SATCHEL_OK;

done:
	if (status != SATCHEL_OK) {
		g_free(*out);
		*out = NULL;
		*out_len = 0;
		*errmsg = vips_error_buffer_copy();
	}
	g_object_unref(base);
	vips_thread_shutdown();
	return status;
}

int
satchel_can_write_avif(void)
{
	VipsImage *base = vips_image_new();
	VipsImage **t = (VipsImage **) vips_object_local_array(
		VIPS_OBJECT(base), 2);
	void *buf = NULL;
	size_t len = 0;
	int ok;

	ok = !vips_black(&t[0], 16, 16, "bands", 3, NULL) &&
		!vips_copy(t[0], &t[1],
			"interpretation", VIPS_INTERPRETATION_sRGB, NULL) &&
		!vips_heifsave_buffer(t[1], &buf, &len,
			"compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
			NULL) &&
		len > 0;
	if (!ok)
		vips_error_clear();
	g_free(buf);
	g_object_unref(base);
	vips_thread_shutdown();
	return ok;
}

int
satchel_operation_blocked(const char *nickname)
{
	GType type = vips_type_find("VipsOperation", nickname);
	VipsOperationClass *class;
	int blocked;

	if (!type)
		return -1;
	class = VIPS_OPERATION_CLASS(g_type_class_ref(type));
	blocked = (class->flags & VIPS_OPERATION_BLOCKED) != 0;
	g_type_class_unref(class);
	return blocked;
}
