// Quire's host page: posts the access token into the editor frame, then answers the editor's postMessages.
(() => {
  const script = document.currentScript;
  const cfg = script.dataset;
  const frame = document.getElementById('editor_frame');
  const status = document.getElementById('editor_status');
  let loaded = false;

  const setState = (state, text) => {
    document.body.dataset.editorState = state;
    if (status && text !== undefined) status.textContent = text;
  };

  const send = (messageId, values) => {
    const message = JSON.stringify({ MessageId: messageId, SendTime: Date.now(), Values: values || {} });
    frame.contentWindow.postMessage(message, cfg.editorOrigin);
  };

  window.addEventListener('message', (event) => {
    if (event.origin !== cfg.editorOrigin || event.source !== frame.contentWindow) return;
    let message = event.data;
    if (typeof message === 'string') {
      try {
        message = JSON.parse(message);
      } catch {
        return;
      }
    }
    if (!message || typeof message.MessageId !== 'string') return;
    const values = message.Values || {};
    switch (message.MessageId) {
      case 'App_LoaderStarted':
        // Collabora waits for this before it sends anything else.
        send('Host_PostmessageReady');
        setState('loading', 'Opening the editor…');
        break;
      case 'Document_Loaded':
      case 'App_LoadingStatus':
        if (values.Status === 'Document_Loaded' || message.MessageId === 'Document_Loaded') {
          loaded = true;
          setState('loaded', '');
        }
        break;
      case 'Doc_ModifiedStatus':
        document.body.dataset.modified = String(values.Modified === true);
        break;
      case 'File_Rename':
        if (typeof values.NewName === 'string') document.title = `${values.NewName} – Quire`;
        break;
      case 'UI_Close':
        window.location.assign(cfg.closeUrl);
        break;
      case 'UI_Edit':
        window.location.assign(cfg.editUrl);
        break;
      case 'UI_FileVersions':
        // a link's guest has no history page to go to
        if (cfg.versionsUrl) window.location.assign(cfg.versionsUrl);
        break;
      default:
        break;
    }
  });

  setState('posting', 'Opening the editor…');
  document.getElementById('editor_form').submit();
  // If the editor never reports in, say so instead of showing a blank page forever.
  setTimeout(() => {
    if (!loaded && document.body.dataset.editorState !== 'loading') {
      setState('silent', 'The editor has not answered yet. If this lasts, check that it can reach Quire.');
    }
  }, 30000);
})();
