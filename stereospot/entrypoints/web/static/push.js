/* StereoSpot notifications: the "Notify me" buttons of the job page and the dashboard.

   - The permission prompt appears only after a click, and only where browsers allow push
     (a secure origin: HTTPS, or localhost).
   - Every refusal reads as a sentence (unsupported browser, plain http, blocked, dismissed,
     a private window) instead of the browser's raw exception text.
   - The job page subscribes its job; the dashboard subscribes every conversion it shows as
     running. The service worker (/sw.js) shows the notification; a click opens the job.
   Buttons may come and go (the pages swap their panels), so clicks are delegated and
   buttons are prepared again whenever the page changes. */
"use strict";

(() => {
  const MESSAGES = {
    unsupported: "This browser cannot show notifications from websites.",
    insecure: "Notifications need a secure connection (HTTPS, or localhost).",
    denied:
      "Notifications are blocked for this site. Allow them in your browser's site settings, then try again.",
    dismissed: "Notifications were not allowed. Click again to choose “Allow”.",
    private: "This window does not allow notifications (private windows usually do not). Try a normal window.",
    service: "Your browser's notification service could not be reached. Please try again later.",
    nothing: "Nothing is converting right now; start a conversion first.",
    failed: "Notifications could not be set up. Please try again later.",
  };

  class PushRefused extends Error {}

  const supported = () =>
    "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

  /* The reason notifications cannot work here at all, before any click; null if they may. */
  const blocker = () => {
    if (!window.isSecureContext) return MESSAGES.insecure;
    if (!supported()) return MESSAGES.unsupported;
    if (Notification.permission === "denied") return MESSAGES.denied;
    return null;
  };

  const statusOf = (button) => {
    const scope = button.closest("[data-push-scope]") || button.parentElement;
    return scope.querySelector("[data-push-status]");
  };

  const say = (button, message) => {
    const status = statusOf(button);
    if (!status) return;
    status.hidden = false;
    status.textContent = message;
  };

  const jobIdsFor = (button) => {
    if (button.dataset.pushJob) return [button.dataset.pushJob];
    const panel = button.closest("[data-job-id]");
    if (panel && panel.id === "job-panel") return [panel.dataset.jobId];
    const running = document.querySelector("[data-running-ids]");
    const ids = running ? running.dataset.runningIds : "";
    return ids ? ids.split(",").filter(Boolean) : [];
  };

  /* Map what browsers throw to a sentence (Chrome incognito: "Registration failed -
     permission denied"; Firefox private: SecurityError / InvalidStateError). */
  const readable = (error) => {
    if (error instanceof PushRefused) return error.message;
    const name = error && error.name;
    if (name === "NotAllowedError") {
      return Notification.permission === "denied" ? MESSAGES.denied : MESSAGES.private;
    }
    if (name === "SecurityError" || name === "InvalidStateError") return MESSAGES.private;
    if (name === "AbortError") return MESSAGES.service; // e.g. "push service error"
    return MESSAGES.failed;
  };

  const serverKey = async () => {
    const response = await fetch("/api/push/public-key", { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new PushRefused(body.error || MESSAGES.failed);
    return body.public_key;
  };

  const browserSubscription = async (publicKey) => {
    const registration = await navigator.serviceWorker.register("/sw.js");
    await navigator.serviceWorker.ready;
    const existing = await registration.pushManager.getSubscription();
    if (existing) return existing;
    return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey });
  };

  const subscribeJobs = async (jobIds, subscription) => {
    for (const jobId of jobIds) {
      const response = await fetch(`/api/jobs/${jobId}/push-subscriptions`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(subscription.toJSON()),
      });
      if (!response.ok && response.status !== 404) {
        const body = await response.json().catch(() => ({}));
        throw new PushRefused(body.error || MESSAGES.failed);
      }
    }
  };

  const onClick = async (button) => {
    const blocked = blocker();
    if (blocked) {
      say(button, blocked);
      return;
    }
    const jobIds = jobIdsFor(button);
    if (!jobIds.length) {
      say(button, MESSAGES.nothing);
      return;
    }
    button.disabled = true;
    say(button, "Asking your browser…");
    try {
      const permission = await Notification.requestPermission(); // after the click only
      if (permission === "denied") throw new PushRefused(MESSAGES.denied);
      if (permission !== "granted") throw new PushRefused(MESSAGES.dismissed);
      const subscription = await browserSubscription(await serverKey());
      await subscribeJobs(jobIds, subscription);
      say(
        button,
        jobIds.length === 1
          ? "We will notify you when it is done."
          : `We will notify you when these ${jobIds.length} conversions are done.`
      );
      button.hidden = true;
    } catch (error) {
      say(button, readable(error));
    } finally {
      button.disabled = false;
    }
  };

  /* Show each button where push may work; elsewhere, say why once. */
  const prepare = () => {
    for (const button of document.querySelectorAll("[data-push-button]")) {
      if (button.dataset.pushReady) continue;
      button.dataset.pushReady = "yes";
      const blocked = blocker();
      if (blocked && blocked !== MESSAGES.denied) {
        button.hidden = true;
        say(button, blocked);
      } else {
        button.hidden = false;
      }
    }
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-push-button]");
    if (button) onClick(button);
  });
  document.addEventListener("DOMContentLoaded", () => {
    if (document.body.dataset.push !== "on") return;
    prepare();
    new MutationObserver(prepare).observe(document.body, { childList: true, subtree: true });
  });

  window.StereoSpotPush = { messages: MESSAGES, readable, blocker };
})();
