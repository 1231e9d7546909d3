// minivercel dashboard behaviour: the live build log (SSE, ANSI colours, follow/pause, copy), the live runtime log
// and its time filter, local times, framework presets filling a new project's build fields.
// Log text is only ever put in the page with textContent: it is untrusted output of someone's build.

(() => {
  const TERMINAL = new Set(["READY", "FAIL", "CANCELED"]);
  const COLOURS = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];
  // CSI sequences (SGR and the cursor/erase ones tools print), OSC strings, and lone two-byte escapes.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences is the point
  const ESCAPE = /\u001b\[([0-9;:?]*)([@-~])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]/g;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: dropping stray control characters is the point
  const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

  /** Applies one SGR parameter list to the current style (mutated). */
  function applySgr(style, params) {
    const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => Number(p) || 0);
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      if (code === 0) {
        style.fg = null;
        style.bg = null;
        style.bold = style.dim = style.italic = style.underline = false;
      } else if (code === 1) style.bold = true;
      else if (code === 2) style.dim = true;
      else if (code === 3) style.italic = true;
      else if (code === 4) style.underline = true;
      else if (code === 22) style.bold = style.dim = false;
      else if (code === 23) style.italic = false;
      else if (code === 24) style.underline = false;
      else if (code >= 30 && code <= 37) style.fg = { name: COLOURS[code - 30] };
      else if (code >= 90 && code <= 97) style.fg = { name: `bright-${COLOURS[code - 90]}` };
      else if (code === 39) style.fg = null;
      else if (code >= 40 && code <= 47) style.bg = { name: COLOURS[code - 40] };
      else if (code >= 100 && code <= 107) style.bg = { name: `bright-${COLOURS[code - 100]}` };
      else if (code === 49) style.bg = null;
      else if (code === 38 || code === 48) {
        const key = code === 38 ? "fg" : "bg";
        if (codes[i + 1] === 5) {
          style[key] = xterm256(codes[i + 2] ?? 0);
          i += 2;
        } else if (codes[i + 1] === 2) {
          style[key] = { rgb: rgb(codes[i + 2], codes[i + 3], codes[i + 4]) };
          i += 4;
        }
      }
    }
  }

  const clamp = (n) => Math.max(0, Math.min(255, Number(n) || 0));
  const rgb = (r, g, b) => `rgb(${clamp(r)}, ${clamp(g)}, ${clamp(b)})`;

  function xterm256(n) {
    if (n < 8) return { name: COLOURS[n] };
    if (n < 16) return { name: `bright-${COLOURS[n - 8]}` };
    if (n < 232) {
      const c = n - 16;
      const level = (v) => (v === 0 ? 0 : 55 + v * 40);
      return { rgb: rgb(level(Math.floor(c / 36)), level(Math.floor(c / 6) % 6), level(c % 6)) };
    }
    const grey = 8 + (n - 232) * 10;
    return { rgb: rgb(grey, grey, grey) };
  }

  /** A text run in the current style: a span with classes (and a colour set through the DOM, never markup). */
  function run(text, style) {
    const plain = !style.fg && !style.bg && !style.bold && !style.dim && !style.italic && !style.underline;
    if (plain) return document.createTextNode(text);
    const span = document.createElement("span");
    if (style.fg?.name) span.classList.add(`ansi-fg-${style.fg.name}`);
    if (style.fg?.rgb) span.style.color = style.fg.rgb;
    if (style.bg?.name) span.classList.add(`ansi-bg-${style.bg.name}`);
    if (style.bg?.rgb) span.style.backgroundColor = style.bg.rgb;
    if (style.bold) span.classList.add("ansi-bold");
    if (style.dim) span.classList.add("ansi-dim");
    if (style.italic) span.classList.add("ansi-italic");
    if (style.underline) span.classList.add("ansi-underline");
    span.textContent = text;
    return span;
  }

  /** One log line -> a line element; `style` carries colours across lines as a terminal does. */
  function renderLine(text, stream, style) {
    const line = document.createElement("div");
    line.className = `line line-${stream}`;
    // A carriage return redraws the line (progress bars): keep what was drawn last.
    const lastCr = text.lastIndexOf("\r");
    const visible =
      lastCr >= 0 && lastCr < text.length - 1 ? text.slice(lastCr + 1) : text.replace(/\r$/, "");
    let at = 0;
    for (const match of visible.matchAll(ESCAPE)) {
      if (match.index > at) line.append(run(visible.slice(at, match.index).replace(CONTROL, ""), style));
      if (match[2] === "m") applySgr(style, match[1] ?? "");
      at = match.index + match[0].length;
    }
    if (at < visible.length) line.append(run(visible.slice(at).replace(CONTROL, ""), style));
    return line;
  }

  // A line that reports an error, on whichever stream (views/format.ts has the same rule for the summary).
  const ERROR_LINE = /(^|[^A-Za-z])(error|err!|fatal|failed|failure|exception|panic)([^A-Za-z]|$)/i;
  // The builder's own lines that open a step of the log (builder/main.ts, builder/publish.ts).
  const STEPS = [
    [/^(Cloning |Unpacking the uploaded source)/, "Clone"],
    [/^Install: /, "Install"],
    [/^Build: /, "Build"],
    [/^Found \d+ functions? in api\//, "Functions"],
    [/^Uploading /, "Upload"],
  ];

  const seconds = (ms) => (ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`);

  /**
   * The log grouped into steps: each a <details> whose summary names it and, once the next step began (or the
   * build ended), how long it took. Lines before the first step stay at the top.
   */
  function stepper(log) {
    let current = null;
    const close = (endAt) => {
      if (!current) return;
      const time = current.summary.querySelector(".step-time");
      if (time && Number.isFinite(current.start) && Number.isFinite(endAt))
        time.textContent = seconds(endAt - current.start);
      current.details.classList.remove("step-running");
    };
    return {
      /** Where a line goes: a system line opening a step starts a new group. */
      place(element, stream, text, at) {
        const step = stream === "system" ? STEPS.find(([pattern]) => pattern.test(text)) : undefined;
        if (step && step[1] !== current?.name) {
          close(at);
          const details = document.createElement("details");
          details.className = "log-step step-running";
          details.open = true;
          const summary = document.createElement("summary");
          summary.append(span("step-name", step[1]), span("step-time", "running…"));
          const body = document.createElement("div");
          body.className = "step-lines";
          details.append(summary, body);
          log.append(details);
          current = { name: step[1], details, summary, body, start: at, last: at };
        }
        if (current) {
          current.body.append(element);
          current.last = at;
          if (element.classList.contains("line-error")) current.details.classList.add("step-failed");
        } else log.append(element);
      },
      /** The build ended: the last step's time, and after a failure the steps that went well fold away. */
      finish(status) {
        if (current) close(current.last);
        current = null;
        if (status !== "FAIL") return;
        const steps = [...log.querySelectorAll(":scope > details.log-step")];
        for (const details of steps.slice(0, -1))
          if (!details.classList.contains("step-failed")) details.open = false;
      },
    };
  }

  /** The line a #L<n> address points at: opened, scrolled to inside the log, highlighted. */
  function showTarget(log, following) {
    const id = decodeURIComponent(location.hash.slice(1));
    if (!/^L\d+$/.test(id)) return false;
    const line = document.getElementById(id);
    if (!line || !log.contains(line)) return false;
    for (const old of log.querySelectorAll(".line-target")) old.classList.remove("line-target");
    const details = line.closest("details");
    if (details) details.open = true;
    line.classList.add("line-target");
    following.pause();
    log.scrollTop +=
      line.getBoundingClientRect().top - log.getBoundingClientRect().top - log.clientHeight / 3;
    return true;
  }

  const newStyle = () => ({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false });

  /**
   * Following a growing log: it stays scrolled to the bottom until the user scrolls up (paused), and the
   * follow button (shown while paused) or scrolling back down resumes it. `added()` after appending lines.
   */
  function followable(log, follow) {
    let sticky = true;
    let programmatic = false;
    const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 8;
    const toBottom = () => {
      programmatic = true;
      log.scrollTop = log.scrollHeight;
    };
    const setSticky = (value) => {
      sticky = value;
      if (follow) follow.hidden = value;
    };
    log.addEventListener("scroll", () => {
      if (programmatic) {
        programmatic = false;
        return;
      }
      setSticky(atBottom());
    });
    follow?.addEventListener("click", () => {
      // A log the filter swapped out no longer follows anything.
      if (!log.isConnected) return;
      setSticky(true);
      toBottom();
      log.focus();
    });
    return {
      added() {
        if (sticky) toBottom();
      },
      /** Stops following (a line was jumped to); the follow button resumes. */
      pause() {
        setSticky(false);
      },
    };
  }

  const stateSetter = (id) => (text) => {
    const state = document.getElementById(id);
    if (state) state.textContent = text;
  };

  function startLog(log) {
    const style = newStyle();
    const following = followable(log, document.getElementById("log-follow"));
    const steps = stepper(log);
    // Whether the line a #L<n> address names was shown (once: later lines must not pull the view away).
    let targeted = false;
    window.addEventListener("hashchange", () => {
      targeted = showTarget(log, following) || targeted;
    });
    let empty = true;
    const setState = stateSetter("log-state");

    if (!window.EventSource) {
      setState("Live log unavailable in this browser: use Download.");
      return;
    }
    setState("Connecting…");
    // The last line shown: EventSource resumes after it by itself (Last-Event-ID); a fresh connection asks with ?after=.
    let last = 0;
    let finished = false;
    let retries = 0;
    const connect = () => {
      const url = last > 0 ? `${log.dataset.stream}?after=${last}` : log.dataset.stream;
      const source = new EventSource(url);
      // Each connection opens with the current status and ends with the final one (after the history).
      let opening = true;
      source.addEventListener("open", () => {
        opening = true;
        retries = 0;
        setState("Live");
      });
      source.addEventListener("log", (event) => {
        let line;
        try {
          line = JSON.parse(event.data);
        } catch {
          return;
        }
        const seq = Number(line.seq);
        if (Number.isFinite(seq)) {
          if (seq <= last) return;
          last = seq;
        }
        if (empty) {
          log.replaceChildren();
          empty = false;
        }
        const text = String(line.text ?? "");
        const stream = line.stream === "stderr" || line.stream === "system" ? line.stream : "stdout";
        const element = renderLine(text, stream, style);
        if (Number.isFinite(seq)) {
          element.id = `L${seq}`;
          element.dataset.n = String(seq);
        }
        // npm, yarn and pnpm echo the script they run as "> command": its words are not its outcome.
        const shown = element.textContent ?? "";
        if (!shown.startsWith("> ") && ERROR_LINE.test(shown)) element.classList.add("line-error");
        steps.place(element, stream, element.textContent ?? "", Date.parse(String(line.at ?? "")));
        if (!targeted && Number.isFinite(seq) && location.hash === `#L${seq}`)
          targeted = showTarget(log, following);
        else following.added();
      });
      source.addEventListener("status", (event) => {
        let deployment;
        try {
          deployment = JSON.parse(event.data);
        } catch {
          return;
        }
        const status = String(deployment.status ?? "");
        if (status !== log.dataset.status) {
          log.dataset.status = status;
          // The summary (badge, duration, buttons) re-renders itself on this event.
          const summary = document.getElementById("summary");
          if (summary && window.htmx) window.htmx.trigger(summary, "mv:status");
        }
        const first = opening;
        opening = false;
        if (TERMINAL.has(status) && !first) {
          // The server ends the stream after the final status; without this EventSource would reconnect.
          finished = true;
          source.close();
          steps.finish(status);
          if (!targeted) targeted = showTarget(log, following);
          setState(empty ? "No output." : "");
          if (empty) {
            const note = document.createElement("div");
            note.className = "log-empty";
            note.textContent = "This deployment printed no output.";
            log.replaceChildren(note);
          }
        }
      });
      // The server is shutting down: the stream ends and EventSource reconnects (after `retry:`) on its own.
      source.addEventListener("restarting", () => setState("Server restarting: reconnecting…"));
      source.addEventListener("error", () => {
        if (finished) return;
        if (source.readyState !== EventSource.CLOSED) {
          setState("Reconnecting…");
          return;
        }
        // Given up by the browser (e.g. a 502 from a proxy in front while the server restarts): try again, slower.
        retries++;
        if (retries > 20) {
          setState("Disconnected: reload the page to reconnect.");
          return;
        }
        setState("Reconnecting…");
        setTimeout(connect, Math.min(30_000, 1000 * 2 ** Math.min(retries, 5)));
      });
    };
    connect();
    if (empty) {
      const note = document.createElement("div");
      note.className = "log-empty";
      note.textContent = "Waiting for output…";
      log.replaceChildren(note);
    }
  }

  const span = (className, text) => {
    const el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  };

  /** A runtime line's time (data-at, UTC) as the local clock, to the millisecond; a range's bounds as dates. */
  function localAt(el) {
    const date = new Date(el.dataset.at ?? "");
    if (Number.isNaN(date.getTime())) return;
    const pad = (n, width = 2) => String(n).padStart(width, "0");
    if (el.classList.contains("rt-time"))
      el.textContent = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
    else el.textContent = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  }

  /** A live runtime line: the same markup the server renders for a time range's lines (RuntimeLine). */
  function runtimeLine(line) {
    const stream = line.stream === "stderr" || line.stream === "system" ? line.stream : "stdout";
    // Colours of one line never carry to the next: lines of different requests interleave.
    const row = renderLine(String(line.text ?? ""), stream, newStyle());
    const text = span("rt-text", "");
    text.append(...row.childNodes);
    const at = String(line.at ?? "");
    const time = span("rt-time", at.slice(11, 23));
    time.dataset.at = at;
    time.title = at;
    localAt(time);
    const request = line.requestId ? String(line.requestId) : null;
    const req = span("rt-req", request ?? "—");
    req.title = request ? `request ${request}` : "outside a request";
    row.replaceChildren(time, span("rt-fn", String(line.function || "minivercel")), req, text);
    return row;
  }

  function startRuntimeLog(log) {
    const following = followable(log, document.getElementById("runtime-follow"));
    const setState = stateSetter("runtime-state");
    const note = (text) => {
      const el = document.createElement("div");
      el.className = "log-empty";
      el.textContent = text;
      return el;
    };
    if (!window.EventSource) {
      setState("Live logs are unavailable in this browser: choose a time range.");
      return;
    }
    // A reconnection that is not the browser's own (no Last-Event-ID) sends history again: shown once.
    const shown = new Set();
    let empty = true;
    let stopped = false;
    let retries = 0;
    let source = null;
    const stop = () => {
      stopped = true;
      source?.close();
      setState("");
      const follow = document.getElementById("runtime-follow");
      if (follow) follow.hidden = true;
    };
    // The filter swaps this log out: its stream ends with it.
    log.addEventListener("htmx:beforeCleanupElement", (event) => {
      if (event.target === log) stop();
    });
    log.replaceChildren(note("Connecting…"));
    setState("Connecting…");
    const connect = () => {
      source = new EventSource(log.dataset.stream);
      source.addEventListener("open", () => {
        retries = 0;
      });
      source.addEventListener("log", (event) => {
        if (!log.isConnected) return stop();
        let line;
        try {
          line = JSON.parse(event.data);
        } catch {
          return;
        }
        if (shown.has(line.id)) return;
        if (shown.size > 20_000) shown.clear();
        shown.add(line.id);
        if (empty) {
          log.replaceChildren();
          empty = false;
        }
        log.append(runtimeLine(line));
        following.added();
      });
      source.addEventListener("ready", (event) => {
        let info = {};
        try {
          info = JSON.parse(event.data);
        } catch {}
        setState("Live");
        if (empty)
          log.replaceChildren(
            note("Nothing printed in the last 15 minutes: new lines appear here as they are printed."),
          );
        else if (info.more && !log.querySelector(".runtime-more")) {
          const more = note("Older lines are not shown here: choose a time range for them.");
          more.classList.add("runtime-more");
          log.prepend(more);
        }
      });
      source.addEventListener("restarting", () => setState("Server restarting: reconnecting…"));
      source.addEventListener("error", () => {
        if (stopped) return;
        if (source.readyState !== EventSource.CLOSED) {
          setState("Reconnecting…");
          return;
        }
        retries++;
        if (retries > 20) {
          setState("Disconnected: reload the page to reconnect.");
          return;
        }
        setState("Reconnecting…");
        setTimeout(
          () => {
            if (!stopped && log.isConnected) connect();
          },
          Math.min(30_000, 1000 * 2 ** Math.min(retries, 5)),
        );
      });
    };
    connect();
  }

  /** The filter: "from" and "to" only for a custom range (prefilled with the last hour), a choice applies at once. */
  function startRuntimeFilter(form) {
    const zone = form.querySelector("input[data-timezone]");
    if (zone) zone.value = String(new Date().getTimezoneOffset());
    const range = form.elements.namedItem("range");
    const custom = form.querySelectorAll(".runtime-custom");
    const local = (date) =>
      new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
    const showCustom = () => {
      const on = range instanceof HTMLSelectElement && range.value === "custom";
      for (const label of custom) label.hidden = !on;
      if (!on) return;
      const [from, to] = [form.elements.namedItem("from"), form.elements.namedItem("to")];
      if (from instanceof HTMLInputElement && !from.value)
        from.value = local(new Date(Date.now() - 3_600_000));
      if (to instanceof HTMLInputElement && !to.value) to.value = local(new Date());
    };
    showCustom();
    form.addEventListener("change", (event) => {
      if (!(event.target instanceof HTMLSelectElement)) return;
      showCustom();
      // A custom range waits for its dates and the Show button.
      if (!(event.target === range && range.value === "custom")) form.requestSubmit();
    });
  }

  /** "3 min ago" for recent times, local date and time otherwise; the UTC time stays in the title. */
  function localTime(el) {
    const date = new Date(el.getAttribute("datetime") ?? "");
    if (Number.isNaN(date.getTime())) return;
    const seconds = Math.round((Date.now() - date.getTime()) / 1000);
    const rtf = window.Intl?.RelativeTimeFormat
      ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" })
      : null;
    if (rtf && seconds >= 0 && seconds < 60) el.textContent = rtf.format(-seconds, "second");
    else if (rtf && seconds >= 0 && seconds < 3600)
      el.textContent = rtf.format(-Math.round(seconds / 60), "minute");
    else if (rtf && seconds >= 0 && seconds < 86400)
      el.textContent = rtf.format(-Math.round(seconds / 3600), "hour");
    else el.textContent = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  async function copy(button) {
    const target = document.querySelector(button.dataset.copy ?? "");
    if (!target) return;
    const text = target.value ?? target.textContent ?? "";
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Plain http on a non-local host has no clipboard API: select it for Ctrl+C instead.
      target.focus();
      target.select?.();
      button.textContent = "Press Ctrl+C";
      return;
    }
    const label = button.dataset.copyLabel ?? "Copy";
    button.textContent = "Copied";
    setTimeout(() => {
      button.textContent = label;
    }, 2000);
  }

  /** A framework preset fills the build fields it has values for, unless the user typed their own there. */
  function presetChanged(select) {
    const option = select.selectedOptions[0];
    const form = select.form;
    if (!option || !form) return;
    for (const [name, key] of [
      ["buildCommand", "build"],
      ["outputDirectory", "output"],
    ]) {
      const input = form.elements.namedItem(name);
      if (!(input instanceof HTMLInputElement)) continue;
      const untouched = input.value === "" || input.value === input.dataset.preset;
      if (!untouched) continue;
      input.value = option.dataset[key] ?? "";
      input.dataset.preset = input.value;
    }
    const hint = document.getElementById(select.getAttribute("aria-describedby") ?? "");
    if (hint) hint.textContent = option.dataset.note || select.dataset.detectNote || "";
  }

  function enhance(root) {
    for (const el of root.querySelectorAll("time[datetime]")) localTime(el);
    for (const el of root.querySelectorAll("[data-at]")) localAt(el);
    for (const log of root.querySelectorAll("#log[data-stream]")) {
      if (log.dataset.started) continue;
      log.dataset.started = "1";
      startLog(log);
    }
    for (const log of root.querySelectorAll("#runtime-log[data-stream]")) {
      if (log.dataset.started) continue;
      log.dataset.started = "1";
      startRuntimeLog(log);
    }
    for (const form of root.querySelectorAll("form.runtime-filter")) {
      if (form.dataset.started) continue;
      form.dataset.started = "1";
      startRuntimeFilter(form);
    }
  }

  document.addEventListener("change", (event) => {
    if (event.target instanceof HTMLSelectElement && event.target.dataset.presets)
      presetChanged(event.target);
  });
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
    if (button) copy(button);
  });
  // A result shown once (production now serves …) is not shown again on reload: its address is tidied.
  const here = new URL(location.href);
  if (here.searchParams.has("promoted") || here.searchParams.has("saved")) {
    for (const name of ["promoted", "from", "saved"]) here.searchParams.delete(name);
    history.replaceState(history.state, "", here);
  }
  // htmx:load fires for the initial page and for every swapped-in fragment.
  document.addEventListener("htmx:load", (event) => enhance(event.target));
  if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", () => enhance(document));
  else enhance(document);
})();
