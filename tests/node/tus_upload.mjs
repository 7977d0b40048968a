// tus_upload.mjs - the real tus-js-client against pierd's tus endpoint (driven by
// tests/integration/test_media_tus_js.c, which starts pierd and checks the result).
//
//   node tus_upload.mjs BASE_URL TOKEN FILE
//
// Uploads FILE (a few MiB) to BASE_URL/api/tus/ with "Authorization: Bearer TOKEN", in PATCHes
// of 1 MiB. The first attempt is aborted (its request cut) once half of the file is sent; the second start must resume (HEAD, then a PATCH from
// an offset above 0), not create a new upload. Prints one JSON line:
//   {"mediaId":N,"posts":1,"heads":H,"patchOffsets":[0,K,...],"url":"..."}
// and exits 0, or prints the failure and exits 1.
import { readFileSync } from 'node:fs';
import { Upload } from 'tus-js-client';

const [base, token, file] = process.argv.slice(2);
if (!base || !token || !file) {
  console.error('usage: node tus_upload.mjs BASE_URL TOKEN FILE');
  process.exit(2);
}
const data = readFileSync(file);
const requests = [];
const timer = setTimeout(() => {
  console.error('tus_upload: no result within 60 s');
  process.exit(1);
}, 60000);

function attempt(upload) {
  return new Promise((resolve, reject) => {
    upload.options.onSuccess = (payload) => resolve({ done: true, payload });
    upload.options.onError = (err) => reject(err);
    upload.options.onAborted = () => resolve({ done: false });
    upload.start();
  });
}

let aborting = false;
const upload = new Upload(data, {
  endpoint: `${base}/api/tus/`,
  headers: { Authorization: `Bearer ${token}` },
  metadata: { filename: 'tus-js.bin', filetype: 'application/octet-stream' },
  uploadSize: data.length,
  chunkSize: 1024 * 1024,   // several PATCHes: the cut comes before the end on any machine
  retryDelays: [100, 250, 500, 1000, 2000],
  onBeforeRequest(req) {
    requests.push({ method: req.getMethod(), offset: req.getHeader('Upload-Offset') });
  },
  onProgress(sent, total) {
    if (!aborting && sent >= total / 2) {
      aborting = true;
      // Cut the PATCH in the middle, as a lost connection would.
      upload.abort().then(() => upload.options.onAborted());
    }
  },
});

try {
  let r = await attempt(upload);
  if (r.done)
    throw new Error('the first attempt finished before it could be cut at half');
  await new Promise((res) => setTimeout(res, 300));
  r = await attempt(upload);
  const id = r.payload.lastResponse.getHeader('Pier-Media-Id');
  const patches = requests.filter((q) => q.method === 'PATCH').map((q) => Number(q.offset));
  const result = {
    mediaId: Number(id),
    posts: requests.filter((q) => q.method === 'POST').length,
    heads: requests.filter((q) => q.method === 'HEAD').length,
    patchOffsets: patches,
    url: upload.url,
  };
  console.log(JSON.stringify(result));
  if (!(result.mediaId > 0))
    throw new Error('no Pier-Media-Id on the last response');
  if (result.posts !== 1 || result.heads < 1 || patches.length < 2 || !(patches[patches.length - 1] > 0))
    throw new Error('the upload was not resumed: ' + JSON.stringify(requests));
  clearTimeout(timer);
  process.exit(0);
} catch (err) {
  console.error('tus_upload: ' + (err && err.stack ? err.stack : err));
  process.exit(1);
}
