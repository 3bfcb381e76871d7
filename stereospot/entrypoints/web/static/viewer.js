/* StereoSpot: watching a side-by-side or top-bottom result in 3D in the page.

   The <video> plays the file as encoded; the other views are drawn live on a canvas from
   its two halves: red-cyan anaglyph (red from the left eye, green and blue from the
   right, by canvas compositing), wiggle (the eyes in turn) and cross-eyed (the eyes
   swapped, side by side). "Enter VR" shows the two halves to the two eyes on a virtual
   screen through WebXR (immersive-vr); the button stays hidden where that is missing. */
"use strict";

(() => {
  const WIGGLE_MS = 140;
  const HALF = { "half-sbs": "x", "half-tb": "y" };
  const LAYOUTS = {
    "full-sbs": { split: "x", swap: false },
    "half-sbs": { split: "x", swap: false },
    "full-tb": { split: "y", swap: false },
    "half-tb": { split: "y", swap: false },
    "cross-eyed": { split: "x", swap: true }, // encoded right eye first
  };

  /* Source rectangles of the left and right eye, and the size one eye is shown at. */
  function eyes(format, width, height) {
    const layout = LAYOUTS[format];
    const w = layout.split === "x" ? width / 2 : width;
    const h = layout.split === "y" ? height / 2 : height;
    const first = [0, 0, w, h];
    const second = layout.split === "x" ? [w, 0, w, h] : [0, h, w, h];
    const [left, right] = layout.swap ? [second, first] : [first, second];
    const stretch = HALF[format];
    return {
      left,
      right,
      width: Math.round(stretch === "x" ? w * 2 : w),
      height: Math.round(stretch === "y" ? h * 2 : h),
    };
  }

  function initViewer(root) {
    const video = root.querySelector("[data-player]");
    const canvas = root.querySelector("[data-viewer-canvas]");
    const controls = root.querySelector("[data-viewer-controls]");
    const play = root.querySelector("[data-viewer-play]");
    const seek = root.querySelector("[data-viewer-seek]");
    const buttons = [...root.querySelectorAll("[data-view-mode]")];
    const format = root.dataset.format;
    if (!video || !canvas || !LAYOUTS[format]) return;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const tint = document.createElement("canvas");
    const tintContext = tint.getContext("2d");
    let mode = "sbs";
    let showRight = false;
    let lastSwap = 0;
    let scheduled = false;

    const drawEye = (target, rect, x, geometry) => {
      target.drawImage(video, ...rect, x, 0, geometry.width, geometry.height);
    };

    const draw = () => {
      if (mode === "sbs" || !video.videoWidth) return;
      const geometry = eyes(format, video.videoWidth, video.videoHeight);
      const width = mode === "cross" ? geometry.width * 2 : geometry.width;
      if (canvas.width !== width || canvas.height !== geometry.height) {
        canvas.width = width;
        canvas.height = geometry.height;
      }
      context.globalCompositeOperation = "source-over";
      if (mode === "anaglyph") {
        tint.width = geometry.width;
        tint.height = geometry.height;
        tintContext.globalCompositeOperation = "source-over";
        drawEye(tintContext, geometry.right, 0, geometry);
        tintContext.globalCompositeOperation = "multiply";
        tintContext.fillStyle = "#00ffff";
        tintContext.fillRect(0, 0, geometry.width, geometry.height);
        drawEye(context, geometry.left, 0, geometry);
        context.globalCompositeOperation = "multiply";
        context.fillStyle = "#ff0000";
        context.fillRect(0, 0, geometry.width, geometry.height);
        context.globalCompositeOperation = "lighter";
        context.drawImage(tint, 0, 0);
        context.globalCompositeOperation = "source-over";
      } else if (mode === "wiggle") {
        const now = performance.now();
        if (now - lastSwap >= WIGGLE_MS) {
          showRight = !showRight;
          lastSwap = now;
        }
        drawEye(context, showRight ? geometry.right : geometry.left, 0, geometry);
      } else if (mode === "cross") {
        drawEye(context, geometry.right, 0, geometry);
        drawEye(context, geometry.left, geometry.width, geometry);
      }
      canvas.dataset.drawnAt = String(video.currentTime);
      canvas.dataset.view = mode;
    };

    /* Redraw on every new video frame while playing (and while wiggling when paused). */
    const loop = () => {
      scheduled = false;
      if (mode === "sbs") return;
      draw();
      if (!video.paused || mode === "wiggle") schedule();
    };
    const schedule = () => {
      if (scheduled) return;
      scheduled = true;
      if (!video.paused && video.requestVideoFrameCallback) video.requestVideoFrameCallback(loop);
      else requestAnimationFrame(loop);
    };

    const setMode = (next) => {
      mode = next;
      for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.viewMode === mode));
      const onCanvas = mode !== "sbs";
      canvas.hidden = !onCanvas;
      controls.hidden = !onCanvas;
      video.classList.toggle("offstage", onCanvas);
      video.controls = !onCanvas;
      root.dataset.view = mode;
      if (onCanvas) {
        draw();
        schedule();
      }
    };

    for (const button of buttons) button.addEventListener("click", () => setMode(button.dataset.viewMode));
    for (const type of ["loadeddata", "seeked", "play", "timeupdate"]) {
      video.addEventListener(type, () => {
        if (mode !== "sbs") {
          draw();
          schedule();
        }
      });
    }
    const syncControls = () => {
      play.textContent = video.paused ? "Play" : "Pause";
      if (video.duration) seek.value = String(Math.round((video.currentTime / video.duration) * 1000));
    };
    for (const type of ["play", "pause", "timeupdate"]) video.addEventListener(type, syncControls);
    play.addEventListener("click", () => (video.paused ? video.play() : video.pause()));
    canvas.addEventListener("click", () => (video.paused ? video.play() : video.pause()));
    seek.addEventListener("input", () => {
      if (video.duration) video.currentTime = (Number(seek.value) / 1000) * video.duration;
    });

    initVr(root, video, format);
  }

  /* ------------------------------------------------------------------ WebXR */

  const VERTEX = `
    attribute vec2 position;
    uniform mat4 projection, view;
    uniform vec4 eye;
    varying vec2 uv;
    void main() {
      uv = eye.xy + (position * 0.5 + 0.5) * eye.zw;
      uv.y = 1.0 - uv.y;
      gl_Position = projection * view * vec4(position.x * 1.6, position.y * 0.9 + 1.5, -2.5, 1.0);
    }`;
  const FRAGMENT = `
    precision mediump float;
    uniform sampler2D frame;
    varying vec2 uv;
    void main() { gl_FragColor = texture2D(frame, uv); }`;

  function compile(gl, type, source) {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    return shader;
  }

  async function initVr(root, video, format) {
    const button = root.querySelector("[data-enter-vr]");
    if (!button || !navigator.xr || !navigator.xr.isSessionSupported) return;
    let supported = false;
    try {
      supported = await navigator.xr.isSessionSupported("immersive-vr");
    } catch (_error) {
      supported = false;
    }
    if (!supported) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const session = await navigator.xr.requestSession("immersive-vr");
      const glCanvas = document.createElement("canvas");
      const gl = glCanvas.getContext("webgl", { xrCompatible: true });
      await session.updateRenderState({ baseLayer: new XRWebGLLayer(session, gl) });
      const space = await session.requestReferenceSpace("local-floor").catch(() => session.requestReferenceSpace("local"));
      const program = gl.createProgram();
      gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
      gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
      gl.linkProgram(program);
      const quad = gl.createBuffer();
      gl.bindBuffer(gl.ARRAY_BUFFER, quad);
      gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
      const texture = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_2D, texture);
      for (const [name, value] of [
        [gl.TEXTURE_MIN_FILTER, gl.LINEAR],
        [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE],
        [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE],
      ]) {
        gl.texParameteri(gl.TEXTURE_2D, name, value);
      }
      const layout = LAYOUTS[format];
      const halves = layout.split === "x"
        ? { left: [0, 0, 0.5, 1], right: [0.5, 0, 0.5, 1] }
        : { left: [0, 0, 1, 0.5], right: [0, 0.5, 1, 0.5] };
      if (layout.swap) [halves.left, halves.right] = [halves.right, halves.left];
      video.play();
      const frame = (_time, xrFrame) => {
        session.requestAnimationFrame(frame);
        const pose = xrFrame.getViewerPose(space);
        if (!pose) return;
        const layer = session.renderState.baseLayer;
        gl.bindFramebuffer(gl.FRAMEBUFFER, layer.framebuffer);
        gl.clearColor(0.02, 0.03, 0.06, 1);
        gl.clear(gl.COLOR_BUFFER_BIT);
        gl.useProgram(program);
        gl.bindTexture(gl.TEXTURE_2D, texture);
        if (video.readyState >= 2) gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, gl.RGB, gl.UNSIGNED_BYTE, video);
        const position = gl.getAttribLocation(program, "position");
        gl.bindBuffer(gl.ARRAY_BUFFER, quad);
        gl.enableVertexAttribArray(position);
        gl.vertexAttribPointer(position, 2, gl.FLOAT, false, 0, 0);
        for (const view of pose.views) {
          const viewport = layer.getViewport(view);
          gl.viewport(viewport.x, viewport.y, viewport.width, viewport.height);
          gl.uniformMatrix4fv(gl.getUniformLocation(program, "projection"), false, view.projectionMatrix);
          gl.uniformMatrix4fv(gl.getUniformLocation(program, "view"), false, view.transform.inverse.matrix);
          gl.uniform4fv(gl.getUniformLocation(program, "eye"), view.eye === "right" ? halves.right : halves.left);
          gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
        }
      };
      session.requestAnimationFrame(frame);
    });
  }

  window.StereoSpotViewer = initViewer;
})();
