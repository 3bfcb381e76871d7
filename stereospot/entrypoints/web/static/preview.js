/* StereoSpot: the create form's preview. One representative frame of the chosen file is
   grabbed in the browser (<video> + canvas, nothing uploaded yet), sent to /api/preview
   with the form's settings, and shown on a canvas: as the chosen format, as red-cyan
   anaglyph, or wiggling between the two eyes. Settings changes refresh it (debounced). */
"use strict";

(() => {
  const MAX_SIDE = 512; // the frame is scaled down to this on its long side (cost ~ pixels)
  const DEBOUNCE_MS = 400;
  const WIGGLE_MS = 140;

  const once = (target, type) =>
    new Promise((resolve, reject) => {
      target.addEventListener(type, resolve, { once: true });
      target.addEventListener("error", () => reject(new Error("This file cannot be played here.")), {
        once: true,
      });
    });

  /* A PNG of the frame 30% into the video (at most 10 s in), scaled to MAX_SIDE. */
  async function grabFrame(file) {
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.preload = "auto";
    const url = URL.createObjectURL(file);
    try {
      const loaded = once(video, "loadeddata");
      video.src = url;
      await loaded;
      const at = Number.isFinite(video.duration) ? Math.min(video.duration * 0.3, 10) : 0;
      if (at > 0) {
        const seeked = once(video, "seeked");
        video.currentTime = at;
        await seeked;
      }
      const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
      const width = Math.max(2, 2 * Math.round((video.videoWidth * scale) / 2));
      const height = Math.max(2, 2 * Math.round((video.videoHeight * scale) / 2));
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      canvas.getContext("2d").drawImage(video, 0, 0, width, height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
      if (!blob) throw new Error("The frame could not be read.");
      return { blob, at };
    } finally {
      URL.revokeObjectURL(url);
      video.removeAttribute("src");
    }
  }

  /* Red from the left eye, green and blue from the right: what red-cyan glasses split. */
  function anaglyph(left, right) {
    const out = new ImageData(left.width, left.height);
    const a = left.data;
    const b = right.data;
    const o = out.data;
    for (let i = 0; i < o.length; i += 4) {
      o[i] = a[i];
      o[i + 1] = b[i + 1];
      o[i + 2] = b[i + 2];
      o[i + 3] = 255;
    }
    return out;
  }

  /* The two eyes of a full side-by-side image, as ImageData. */
  function splitEyes(bitmap) {
    const half = Math.floor(bitmap.width / 2);
    const scratch = document.createElement("canvas");
    scratch.width = bitmap.width;
    scratch.height = bitmap.height;
    const context = scratch.getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    return {
      left: context.getImageData(0, 0, half, bitmap.height),
      right: context.getImageData(half, 0, half, bitmap.height),
    };
  }

  window.StereoSpotAnaglyph = anaglyph;

  window.StereoSpotPreview = function StereoSpotPreview(form) {
    const box = form.querySelector("[data-preview]");
    if (!box || !window.createImageBitmap) return null;
    const canvas = box.querySelector("[data-preview-canvas]");
    const status = box.querySelector("[data-preview-status]");
    const buttons = [...box.querySelectorAll("[data-preview-view]")];
    let frame = null;
    let view = "format";
    let chosen = null;
    let eyes = null;
    let timer = null;
    let wiggle = null;
    let sequence = 0;
    let version = 0;

    const draw = () => {
      clearInterval(wiggle);
      wiggle = null;
      const context = canvas.getContext("2d");
      if (view === "format" && chosen) {
        canvas.width = chosen.width;
        canvas.height = chosen.height;
        context.drawImage(chosen, 0, 0);
      } else if (view === "anaglyph" && eyes) {
        canvas.width = eyes.left.width;
        canvas.height = eyes.left.height;
        context.putImageData(anaglyph(eyes.left, eyes.right), 0, 0);
      } else if (view === "wiggle" && eyes) {
        canvas.width = eyes.left.width;
        canvas.height = eyes.left.height;
        let right = false;
        const show = () => {
          context.putImageData(right ? eyes.right : eyes.left, 0, 0);
          right = !right;
        };
        show();
        wiggle = setInterval(() => (canvas.isConnected ? show() : clearInterval(wiggle)), WIGGLE_MS);
      }
      canvas.dataset.view = view;
    };

    const ask = async (format) => {
      const body = new FormData();
      body.append("image", frame.blob, "frame.png");
      body.append("format", format);
      body.append("divergence", form.elements.divergence.value);
      body.append("convergence", form.elements.convergence.value);
      const response = await fetch("/api/preview", { method: "POST", body });
      if (!response.ok) {
        const answer = await response.json().catch(() => ({}));
        const error = new Error(answer.error || `The preview failed (HTTP ${response.status}).`);
        error.retryAfter = Number(response.headers.get("Retry-After")) || 0;
        throw error;
      }
      return createImageBitmap(await response.blob());
    };

    const refresh = async () => {
      if (!frame || !form.elements.divergence.checkValidity() || !form.elements.convergence.checkValidity()) return;
      const mine = ++sequence;
      const started = performance.now();
      box.dataset.state = "loading";
      status.textContent = "Making a preview…";
      const format = form.elements.output_format.value;
      try {
        const [asChosen, sideBySide] = await Promise.all([
          ask(format),
          format === "full-sbs" ? null : ask("full-sbs"),
        ]);
        if (mine !== sequence) return; // settings changed meanwhile; a newer one is coming
        chosen = asChosen;
        eyes = splitEyes(sideBySide || asChosen);
        draw();
        const seconds = (performance.now() - started) / 1000;
        version += 1;
        box.dataset.version = String(version);
        box.dataset.latencyMs = String(Math.round(seconds * 1000));
        box.dataset.state = "ready";
        status.textContent = `The frame at ${frame.at.toFixed(1)} s, made in ${seconds.toFixed(1)} s.`;
      } catch (error) {
        if (mine !== sequence) return;
        box.dataset.state = "error";
        status.textContent = error.message;
        if (error.retryAfter) schedule(error.retryAfter * 1000);
      }
    };

    const schedule = (delay = DEBOUNCE_MS) => {
      clearTimeout(timer);
      timer = setTimeout(refresh, delay);
    };

    for (const button of buttons) {
      button.addEventListener("click", () => {
        view = button.dataset.previewView;
        for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
        draw();
      });
    }
    for (const name of ["output_format", "divergence", "convergence"]) {
      form.elements[name].addEventListener("input", () => schedule());
      form.elements[name].addEventListener("change", () => schedule());
    }

    return {
      async setFile(file) {
        box.hidden = false;
        box.dataset.state = "loading";
        status.textContent = "Reading a frame…";
        chosen = null;
        eyes = null;
        try {
          frame = await grabFrame(file);
        } catch (error) {
          frame = null;
          box.dataset.state = "error";
          status.textContent = `${error.message} The conversion can still read it.`;
          return;
        }
        schedule(0);
      },
    };
  };
})();
