/*
 * voiceinsights browser forwarder: sends Twilio Voice SDK call events to a voiceinsights
 * collector (POST /sdk/events).
 *
 *   <script src="https://collector.example.com/sdk/forwarder.js"></script>
 *   const handle = VoiceInsights.attach(call, {
 *     url: "https://collector.example.com/sdk/events",
 *     token: accessToken,             // a string, or a function returning one
 *   });
 *   VoiceInsights.attachPreflight(preflightTest, {url, token});
 *
 * It listens to the Call's `sample`, `warning` and `warning-cleared` events and to
 * `call.postFeedback(score, issue)`, wraps each in the voiceinsights SDK envelope
 * ({type, call_sid, data}), batches them (every `intervalMs` or `maxBatch` events),
 * retries failed posts with exponential backoff and flushes what is left with
 * navigator.sendBeacon when the page is hidden or unloaded. Options:
 *   intervalMs (5000), maxBatch (50), maxQueue (5000), backoffMs (1000), maxBackoffMs (30000),
 *   onError(err) called when a batch fails (it is kept and retried unless the collector
 *   refused it with a 4xx, which a retry would not fix).
 * No dependencies; ES2017.
 */
(function (root) {
  "use strict";

  var BEACON_LIMIT = 60000; // bytes per beacon (browsers cap a beacon queue at 64 KiB)

  function Forwarder(opts) {
    if (!opts || !opts.url) throw new Error("VoiceInsights: options.url is required");
    if (!opts.token) throw new Error("VoiceInsights: options.token is required");
    this.url = opts.url;
    this.token = opts.token;
    this.intervalMs = opts.intervalMs || 5000;
    this.maxBatch = opts.maxBatch || 50;
    this.maxQueue = opts.maxQueue || 5000;
    this.backoffMs = opts.backoffMs || 1000;
    this.maxBackoffMs = opts.maxBackoffMs || 30000;
    this.onError = opts.onError || null;
    this.queue = [];
    this.inFlight = null;
    this.failures = 0;
    this.retryAt = 0;
    this.dropped = 0;
    this.sent = 0;
    var self = this;
    this.timer = setInterval(function () { self.flush(); }, this.intervalMs);
    this.onHide = function () {
      if (root.document && root.document.visibilityState === "hidden") self.beacon();
    };
    this.onPageHide = function () { self.beacon(); };
    if (root.addEventListener) {
      root.addEventListener("pagehide", this.onPageHide);
    }
    if (root.document && root.document.addEventListener) {
      root.document.addEventListener("visibilitychange", this.onHide);
    }
  }

  Forwarder.prototype.currentToken = function () {
    return typeof this.token === "function" ? this.token() : this.token;
  };

  Forwarder.prototype.push = function (envelope) {
    this.queue.push(envelope);
    if (this.queue.length > this.maxQueue) {
      this.dropped += this.queue.length - this.maxQueue;
      this.queue.splice(0, this.queue.length - this.maxQueue);
    }
    if (this.queue.length >= this.maxBatch) this.flush();
  };

  Forwarder.prototype.report = function (err) {
    if (this.onError) {
      try { this.onError(err); } catch (e) { /* the page's handler must not break us */ }
    }
  };

  /* Post the next batch; resolves when it is done (or nothing was due). */
  Forwarder.prototype.flush = function (force) {
    var self = this;
    if (this.inFlight) return this.inFlight;
    if (!this.queue.length) return Promise.resolve();
    if (!force && Date.now() < this.retryAt) return Promise.resolve();
    var batch = this.queue.splice(0, this.maxBatch);
    var body = JSON.stringify(batch);
    this.inFlight = root.fetch(this.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "Authorization": "Bearer " + this.currentToken(),
      },
      body: body,
      keepalive: body.length < BEACON_LIMIT,
    }).then(function (resp) {
      if (resp.ok) {
        self.failures = 0;
        self.retryAt = 0;
        self.sent += batch.length;
        return;
      }
      var retriable = resp.status >= 500 || resp.status === 408 || resp.status === 429;
      var err = new Error("collector answered " + resp.status);
      err.status = resp.status;
      if (!retriable) {
        self.dropped += batch.length;
        self.report(err);
        return;
      }
      throw err;
    }).catch(function (err) {
      // Network failure or a retriable status: keep the batch, back off.
      self.queue = batch.concat(self.queue);
      self.failures += 1;
      var delay = Math.min(self.maxBackoffMs, self.backoffMs * Math.pow(2, self.failures - 1));
      self.retryAt = Date.now() + delay * (0.5 + Math.random() / 2);
      self.report(err);
    }).then(function () {
      self.inFlight = null;
      if (self.queue.length >= self.maxBatch && Date.now() >= self.retryAt) return self.flush();
    });
    return this.inFlight;
  };

  /* Hand everything queued to navigator.sendBeacon (page going away). */
  Forwarder.prototype.beacon = function () {
    if (!this.queue.length) return true;
    var nav = root.navigator;
    if (!nav || !nav.sendBeacon) { this.flush(true); return false; }
    var sep = this.url.indexOf("?") >= 0 ? "&" : "?";
    // A beacon cannot carry headers: the token goes in the query, the body as text/plain
    // (no CORS preflight), which the collector reads as JSON.
    var target = this.url + sep + "token=" + encodeURIComponent(this.currentToken());
    var ok = true;
    while (this.queue.length) {
      var n = Math.min(this.queue.length, this.maxBatch);
      var body = JSON.stringify(this.queue.slice(0, n));
      while (n > 1 && body.length > BEACON_LIMIT) {
        n = Math.ceil(n / 2);
        body = JSON.stringify(this.queue.slice(0, n));
      }
      if (!nav.sendBeacon(target, body)) { ok = false; break; }
      this.queue.splice(0, n);
      this.sent += n;
    }
    return ok;
  };

  Forwarder.prototype.close = function () {
    clearInterval(this.timer);
    if (root.removeEventListener) {
      root.removeEventListener("pagehide", this.onPageHide);
    }
    if (root.document && root.document.removeEventListener) {
      root.document.removeEventListener("visibilitychange", this.onHide);
    }
  };

  function callSidOf(call) {
    return (call.parameters && call.parameters.CallSid) || call.sid || null;
  }

  function envelope(type, callSid, data) {
    return { type: type, call_sid: callSid, data: data };
  }

  /*
   * Forward a Twilio Voice SDK Call's events. Returns a handle with flush(), beacon(),
   * detach() and stats().
   */
  function attach(call, opts) {
    if (!call || typeof call.on !== "function") {
      throw new Error("VoiceInsights.attach: expected a Twilio Voice SDK Call");
    }
    var fwd = new Forwarder(opts);
    var onSample = function (sample) {
      fwd.push(envelope("sample", callSidOf(call), sample));
    };
    var onWarning = function (name, data) {
      fwd.push(envelope("warning", callSidOf(call), { name: name, data: data || null }));
    };
    var onCleared = function (name) {
      fwd.push(envelope("warning-cleared", callSidOf(call), { name: name }));
    };
    var onEnd = function () { fwd.flush(true); };
    call.on("sample", onSample);
    call.on("warning", onWarning);
    call.on("warning-cleared", onCleared);
    call.on("disconnect", onEnd);
    var originalFeedback = call.postFeedback;
    if (typeof originalFeedback === "function") {
      call.postFeedback = function (score, issue) {
        fwd.push(envelope("feedback", callSidOf(call), {
          score: score === undefined ? null : score,
          issue: issue === undefined ? null : issue,
        }));
        fwd.flush(true);
        return originalFeedback.apply(call, arguments);
      };
    }
    return {
      flush: function () { return fwd.flush(true); },
      beacon: function () { return fwd.beacon(); },
      stats: function () {
        return { queued: fwd.queue.length, sent: fwd.sent, dropped: fwd.dropped,
                 failures: fwd.failures };
      },
      detach: function () {
        var off = call.removeListener || call.off;
        if (typeof off === "function") {
          off.call(call, "sample", onSample);
          off.call(call, "warning", onWarning);
          off.call(call, "warning-cleared", onCleared);
          off.call(call, "disconnect", onEnd);
        }
        if (originalFeedback) call.postFeedback = originalFeedback;
        var done = fwd.flush(true);
        fwd.close();
        return done;
      },
    };
  }

  /* Forward a PreflightTest's `completed` report. Returns a handle like attach(). */
  function attachPreflight(preflightTest, opts) {
    if (!preflightTest || typeof preflightTest.on !== "function") {
      throw new Error("VoiceInsights.attachPreflight: expected a Twilio PreflightTest");
    }
    var fwd = new Forwarder(opts);
    preflightTest.on("completed", function (report) {
      fwd.push(envelope("preflight-report", (report && report.callSid) || null, report));
      fwd.flush(true);
    });
    return {
      flush: function () { return fwd.flush(true); },
      beacon: function () { return fwd.beacon(); },
      stats: function () {
        return { queued: fwd.queue.length, sent: fwd.sent, dropped: fwd.dropped,
                 failures: fwd.failures };
      },
      detach: function () { var d = fwd.flush(true); fwd.close(); return d; },
    };
  }

  var api = { attach: attach, attachPreflight: attachPreflight, version: "1" };
  if (typeof module === "object" && module.exports) module.exports = api;
  root.VoiceInsights = api;
})(typeof window !== "undefined" ? window : globalThis);
