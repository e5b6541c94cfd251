// hull-inflate.node: gzip decompression through ISA-L's inflate, for layer blobs
// (src/image/layer/gunzip.ts). node:zlib's inflate was the largest CPU cost of a pull; ISA-L's
// is about three times faster on the same data and checks the gzip trailer (CRC-32 and size)
// itself. Mechanism only: one stream state per handle, driven synchronously by its one thread.
#include <isa-l/igzip_lib.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define CHECK(call)                                                                      \
  do {                                                                                   \
    if ((call) != napi_ok) return NULL;                                                  \
  } while (0)

static void finalize(napi_env env, void *data, void *hint) { free(data); }

static void start(struct inflate_state *s) {
  isal_inflate_init(s);
  s->crc_flag = ISAL_GZIP;
}

// create(): a handle for one gzip stream (of one or more members).
static napi_value create(napi_env env, napi_callback_info info) {
  struct inflate_state *s = malloc(sizeof *s);
  if (!s) {
    napi_throw_error(env, "ENOMEM", "cannot allocate an inflate state");
    return NULL;
  }
  start(s);
  napi_value handle;
  if (napi_create_external(env, s, finalize, NULL, &handle) != napi_ok) {
    free(s);
    return NULL;
  }
  return handle;
}

static int bytes_of(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return -1;
  if (napi_get_typedarray_info(env, v, &type, len, (void **)data, NULL, NULL) != napi_ok || type != napi_uint8_array) return -1;
  return 0;
}

// run(handle, input, inStart, output, outStart, result): inflates input[inStart..] into
// output[outStart..] until the input is used up, the output is full or the gzip member ends.
// Writes into result (an Int32Array of 4): bytes consumed, bytes produced, 1 if the member ended,
// and ISA-L's return value (negative for corrupt data; gunzip.ts names them).
static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct inflate_state *s;
  uint8_t *in, *out, *res;
  size_t in_len, out_len, res_len;
  uint32_t in_start, out_start;
  if (argc != 6 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok ||
      bytes_of(env, argv[1], &in, &in_len) || napi_get_value_uint32(env, argv[2], &in_start) != napi_ok ||
      bytes_of(env, argv[3], &out, &out_len) || napi_get_value_uint32(env, argv[4], &out_start) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "run(handle, Uint8Array, offset, Uint8Array, offset, Int32Array)");
    return NULL;
  }
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, argv[5], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[5], &type, &res_len, (void **)&res, NULL, NULL) != napi_ok || type != napi_int32_array ||
      res_len < 4) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "the result must be an Int32Array of 4");
    return NULL;
  }
  // isal counts in 32 bits
  if (in_start > in_len || out_start > out_len || in_len - in_start > INT32_MAX || out_len - out_start > INT32_MAX) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "offsets outside the buffers, or a buffer over 2 GiB");
    return NULL;
  }
  s->next_in = in + in_start;
  s->avail_in = (uint32_t)(in_len - in_start);
  s->next_out = out + out_start;
  s->avail_out = (uint32_t)(out_len - out_start);
  int ret = isal_inflate(s);
  int32_t *r = (int32_t *)res;
  r[0] = (int32_t)((in_len - in_start) - s->avail_in);
  r[1] = (int32_t)((out_len - out_start) - s->avail_out);
  r[2] = ret >= 0 && s->block_state == ISAL_BLOCK_FINISH;
  r[3] = ret;
  return NULL;
}

// reset(handle): ready for the next gzip member of the same stream.
static napi_value reset(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  struct inflate_state *s;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_external(env, argv[0], (void **)&s) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "reset(handle)");
    return NULL;
  }
  start(s);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"run", NULL, run, NULL, NULL, NULL, napi_default, NULL},
      {"reset", NULL, reset, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof *props, props) != napi_ok) return NULL;
  return exports;
}
