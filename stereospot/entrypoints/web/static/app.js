/* StereoSpot pages: upload with progress, live progress over SSE (push opt-in: push.js).
   Plain JavaScript, no build step. Works with any upload URL the API returns (a local
   signed URL or a presigned S3 URL): the file body is PUT as is. */
"use strict";

const RETRY_MAX_MS = 30000;
/* The statuses after which nothing changes: the domain's list, on <body> (base.html). */
const TERMINAL_STATUSES = (document.body.dataset.terminalStatuses || "").split(" ");

function $(root, selector) {
  return root.querySelector(selector);
}

function formatEta(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  if (s < 5) return "almost done";
  if (s < 60) return `about ${s} s left`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `about ${minutes} min ${String(s % 60).padStart(2, "0")} s left`;
  return `about ${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min left`;
}

function formatPercent(value) {
  const number = Number(value);
  return Number.isInteger(number) ? String(number) : number.toFixed(1);
}

function formatBytes(bytes) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/* An EventSource that also reopens itself when the browser gives up (e.g. after a 5xx). */
function openStream(url, handlers, findIndicator) {
  let source = null;
  let delay = 1000;
  let closed = false;
  const setLive = (live) => {
    const indicator = findIndicator();
    if (!indicator) return;
    indicator.hidden = false;
    indicator.textContent = live ? "Live" : "Reconnecting…";
    indicator.classList.toggle("reconnecting", !live);
  };
  const connect = () => {
    source = new EventSource(url);
    source.onopen = () => {
      delay = 1000;
      setLive(true);
    };
    for (const [name, handler] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => {
        setLive(true);
        handler(JSON.parse(event.data));
      });
    }
    source.onerror = () => {
      if (closed) return;
      setLive(false);
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(() => closed || connect(), delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    };
  };
  connect();
  return {
    close() {
      closed = true;
      if (source) source.close();
      const indicator = findIndicator();
      if (indicator) indicator.hidden = true;
    },
  };
}

/* ETA elements count down by themselves between events. */
const etaTimers = new WeakMap();
function setEta(element, seconds) {
  if (!element) return;
  clearInterval(etaTimers.get(element));
  if (seconds === null || seconds === undefined || seconds === "") {
    element.textContent = "";
    return;
  }
  let remaining = Number(seconds);
  element.textContent = formatEta(remaining);
  etaTimers.set(
    element,
    setInterval(() => {
      if (!element.isConnected) {
        clearInterval(etaTimers.get(element));
        return;
      }
      remaining = Math.max(0, remaining - 1);
      element.textContent = formatEta(remaining);
    }, 1000)
  );
}

function segmentsText(data) {
  return data.segments_total ? `${data.segments_done} of ${data.segments_total} segments` : "";
}

function applyProgress(root, data) {
  const bar = $(root, '[data-field="percent"]');
  if (bar) {
    bar.value = data.percent;
    bar.textContent = `${data.percent}%`;
  }
  const fields = {
    "percent-text": formatPercent(data.percent),
    stage: data.stage,
    status_label: data.status_label,
    segments: segmentsText(data),
  };
  for (const [name, value] of Object.entries(fields)) {
    const element = $(root, `[data-field="${name}"]`);
    if (element) element.textContent = value;
  }
  const chip = $(root, '[data-field="status_label"]');
  if (chip) chip.className = `chip chip-${data.status}`;
  setEta($(root, '[data-field="eta"]'), data.eta_seconds);
}

/* Timestamps come as UTC; show them in the reader's own time zone. */
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});
/* A thumbnail whose job has no poster (made before posters existed) is left out. */
function hideMissingThumbs(root) {
  for (const image of root.querySelectorAll("img[data-thumb]")) {
    const hide = () => image.classList.add("missing");
    if (image.complete && image.naturalWidth === 0) hide();
    else image.addEventListener("error", hide);
  }
}

function localizeTimes(root) {
  for (const element of root.querySelectorAll("time[data-local-time]")) {
    const moment = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) continue;
    element.title = element.textContent;
    element.textContent = TIME_FORMAT.format(moment);
    element.removeAttribute("data-local-time");
  }
}

/* ------------------------------------------------------------------ upload */

function showUploadError(root, message) {
  const error = $(root, "[data-upload-error]");
  error.textContent = message || "The upload could not start.";
  error.hidden = false;
}

/* The file chooser: name and size shown once chosen (a drop on the zone reaches the
   invisible input that covers it). */
function bindFileChooser(root, onFile) {
  const input = $(root, "[data-file-input]");
  const name = $(root, "[data-file-name]");
  const zone = $(root, "[data-dropzone]");
  input.addEventListener("change", () => {
    if (!input.files.length) return;
    const file = input.files[0];
    name.textContent = `${file.name} · ${formatBytes(file.size)}`;
    onFile(file);
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, () => zone.classList.add("dragging"));
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `The server answered HTTP ${response.status}.`);
  return answer;
}

/* Ask for the job's upload URL and PUT the file to it, showing progress under `root`
   ([data-upload-progress], [data-upload-bar], [data-upload-text]). Rejects with a
   readable message. */
async function uploadFile(jobId, file, root) {
  const box = $(root, "[data-upload-progress]");
  const bar = $(root, "[data-upload-bar]");
  const text = $(root, "[data-upload-text]");
  $(root, "[data-upload-error]").hidden = true;
  const grant = await postJson(`/api/jobs/${jobId}/upload-url`, { filename: file.name });
  if (file.size > grant.max_bytes) {
    throw new Error(`This file is ${formatBytes(file.size)}; the limit is ${formatBytes(grant.max_bytes)}.`);
  }
  box.hidden = false;
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", grant.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.round((event.loaded / event.total) * 100);
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? event.loaded / seconds : 0;
      bar.value = percent;
      text.textContent = `${percent}% · ${formatBytes(event.loaded)} of ${formatBytes(event.total)}` +
        (rate ? ` · ${formatBytes(rate)}/s` : "");
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        text.textContent = `${document.body.dataset.stageUploaded || "Uploaded"}…`;
        resolve();
        return;
      }
      let message = `The upload failed (HTTP ${xhr.status}).`;
      try {
        message = JSON.parse(xhr.responseText).error || message;
      } catch (_error) {
        /* S3 answers in XML; keep the generic sentence */
      }
      reject(new Error(message));
    });
    xhr.addEventListener("error", () => reject(new Error("The connection dropped during the upload. Please try again.")));
    xhr.send(file);
  });
}

/* ------------------------------------------------------------------ job page */

function initJobPage(panel) {
  const jobId = panel.dataset.jobId;
  let stream = null;
  let uploaded = false;

  let swaps = 0;
  const swapPanel = async () => {
    const mine = ++swaps;
    const response = await fetch(panel.dataset.panelUrl, { headers: { Accept: "text/html" } });
    if (mine !== swaps) return; // a newer status change is already being fetched
    if (response.status === 404) {
      window.location.assign("/");
      return;
    }
    if (!response.ok) return;
    const html = await response.text();
    if (mine !== swaps) return;
    panel.innerHTML = html;
    localizeTimes(panel);
    const status = $(panel, "[data-panel-status]");
    if (status) panel.dataset.status = status.dataset.panelStatus;
    bindPanel();
  };

  const onProgress = (data) => {
    // Other scripts (and the browser test) can follow along.
    panel.dispatchEvent(new CustomEvent("stereospot:progress", { detail: data }));
    if (data.status === "created" && uploaded) {
      return; // the upload is done; waiting for a converter to pick it up
    }
    applyProgress(panel, data);
    if (data.status !== panel.dataset.status) {
      panel.dataset.status = data.status;
      swapPanel();
    }
    if (TERMINAL_STATUSES.includes(data.status) && stream) {
      stream.close();
      stream = null;
    }
  };

  const follow = () => {
    if (stream) return;
    stream = openStream(
      panel.dataset.eventsUrl,
      { progress: onProgress, gone: () => window.location.assign("/") },
      () => $(panel, "[data-live-indicator]")
    );
  };

  const bindUpload = () => {
    const form = $(panel, "[data-upload-form]");
    if (!form) return;
    const input = $(form, "[data-file-input]");
    bindFileChooser(form, (file) => {
      const title = $(panel, '[data-field="title"]');
      if (title && title.dataset.untitled === "yes") title.textContent = file.name.replace(/\.[^.]+$/, "");
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!input.files.length) return;
      const button = $(panel, "[data-upload-button]");
      button.disabled = true;
      try {
        await uploadFile(jobId, input.files[0], panel);
        uploaded = true;
        follow();
      } catch (error) {
        showUploadError(panel, error.message);
        button.disabled = false;
      }
    });
  };

  const bindPanel = () => {
    bindUpload();
    const viewer = $(panel, "[data-viewer]");
    if (viewer && window.StereoSpotViewer) window.StereoSpotViewer(viewer);
    const live = $(panel, "[data-live-progress]");
    const eta = $(panel, '[data-field="eta"]');
    if (eta && eta.dataset.eta) setEta(eta, Number(eta.dataset.eta));
    if (live) follow();
  };

  bindPanel();
}

/* ------------------------------------------------------------------ create (dashboard) */

/* File first: choose a file (or give a link), adjust the look, one click creates the job,
   uploads the file and opens the job page. */
function initCreateForm(form) {
  const input = $(form, "[data-file-input]");
  const link = $(form, "[data-link-input]");
  const button = $(form, "[data-start-button]");
  const preview = window.StereoSpotPreview ? window.StereoSpotPreview(form) : null;
  bindFileChooser(form, (file) => {
    $(form, "[data-upload-error]").hidden = true;
    if (preview) preview.setFile(file);
  });
  form.addEventListener("submit", async (event) => {
    const file = input.files.length ? input.files[0] : null;
    if (!file) {
      if (link && link.value.trim()) return; // the server creates the link job
      event.preventDefault();
      showUploadError(form, "Choose a video first, or give a link to one.");
      input.focus();
      return;
    }
    event.preventDefault();
    if (!form.reportValidity()) return;
    button.disabled = true;
    let job = null;
    try {
      job = await postJson("/api/jobs", {
        output_format: form.elements.output_format.value,
        divergence: Number(form.elements.divergence.value),
        convergence: Number(form.elements.convergence.value),
        pixel_format: form.elements.pixel_format ? form.elements.pixel_format.value : "auto",
        lossless: form.elements.lossless ? form.elements.lossless.checked : false,
      });
      await uploadFile(job.id, file, form);
      window.location.assign(`/jobs/${job.id}`);
    } catch (error) {
      showUploadError(form, error.message);
      button.disabled = false;
      if (job) {
        // Nothing arrived: give the job up rather than leave it waiting for the sweep.
        fetch(`/api/jobs/${job.id}/cancel`, { method: "POST" })
          .then(() => fetch(`/api/jobs/${job.id}`, { method: "DELETE" }))
          .catch(() => {});
      }
    }
  });
}

/* ------------------------------------------------------------------ dashboard */

function initDashboard(layout) {
  const lists = $(layout, "#job-lists");
  if (!lists) return;
  const refreshLists = async () => {
    const response = await fetch(layout.dataset.listsUrl, { headers: { Accept: "text/html" } });
    if (response.ok) {
      lists.innerHTML = await response.text();
      localizeTimes(lists);
      hideMissingThumbs(lists);
      startEtas();
    }
  };
  const startEtas = () => {
    for (const eta of lists.querySelectorAll('[data-field="eta"]')) {
      if (eta.dataset.eta) setEta(eta, Number(eta.dataset.eta));
    }
  };
  startEtas();
  if (layout.dataset.live !== "on") return;
  openStream(
    layout.dataset.eventsUrl,
    {
      jobs: (summary) => {
        const shownRunning = ($(lists, "[data-running-ids]") || { dataset: {} }).dataset.runningIds || "";
        const shownNewest = ($(lists, "[data-newest]") || { dataset: {} }).dataset.newest || "";
        const shownFailed = ($(lists, "[data-newest-failed]") || { dataset: {} }).dataset.newestFailed || "";
        const running = summary.in_progress.map((job) => job.id).join(",");
        if (
          running !== shownRunning ||
          (summary.newest_completed || "") !== shownNewest ||
          (summary.newest_failed || "") !== shownFailed
        ) {
          refreshLists();
          return;
        }
        for (const job of summary.in_progress) {
          const item = lists.querySelector(`[data-job-id="${job.id}"]`);
          if (item) applyProgress(item, job);
        }
      },
    },
    () => $(lists, "[data-live-indicator]")
  );
}

document.addEventListener("DOMContentLoaded", () => {
  localizeTimes(document);
  hideMissingThumbs(document);
  const panel = document.getElementById("job-panel");
  if (panel) initJobPage(panel);
  const create = document.querySelector("[data-create-form]");
  if (create) initCreateForm(create);
  const layout = document.querySelector("[data-dashboard]");
  if (layout) initDashboard(layout);
});
