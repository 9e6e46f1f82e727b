// Starts GraphiQL on Satchel's playground page. A file of its own, not an
// inline script, so that the page's Content-Security-Policy can allow
// script-src 'self' and nothing else.
'use strict';

(function () {
  var root = document.getElementById('graphiql');
  var endpoint = new URL(root.getAttribute('data-endpoint') || '/graphql', location.href).href;

  var defaultQuery = [
    '# Satchel GraphQL playground',
    '#',
    '# Most operations need an API key. Put it in the',
    '# Headers pane below: "Authorization": "Bearer <key>".',
    '#',
    '# The first start printed a public and a secret key',
    '# and saved them to $SATCHEL_DATA_DIR/bootstrap-keys.json.',
    '# More keys: satchel keys create --account ID --kind secret',
    '# (or the createApiKey mutation). Public keys may only',
    '# upload; secret keys may do everything for their account.',
    '#',
    '# Headers are not saved in this browser unless you turn',
    '# on "Persist headers" in the settings (gear, bottom left).',
    '#',
    '# Run a query with Ctrl-Enter or the \u25B6 button.',
    '',
    'query RecentFiles {',
    '  files(first: 10) {',
    '    edges {',
    '      node { id name mime size uploadedAt url }',
    '    }',
    '    pageInfo { hasNextPage endCursor }',
    '  }',
    '}',
    '',
  ].join('\n');

  var defaultHeaders = '{\n  "Authorization": "Bearer "\n}\n';

  // Headers hold API keys, so they reach localStorage only if the user turns
  // on "Persist headers" in the settings. GraphiQL 4 honours that for the
  // headers editor and the tabs but not for the history of queries
  // (graphiql:queries, graphiql:favorites), which it saves with their
  // headers; and it shows the toggle only when shouldPersistHeaders is not
  // false. So GraphiQL gets a storage that writes values with their headers
  // blanked while persistence is off (the full values stay in memory for the
  // session, and are written if the user turns it on).
  var FLAG = 'graphiql:shouldPersistHeaders';
  var HOLD_HEADERS = ['graphiql:headers', 'graphiql:tabState', 'graphiql:queries', 'graphiql:favorites'];
  var held = {}; // key -> full value written with its headers blanked

  function blank(key, value) {
    if (key === 'graphiql:headers') return '';
    try {
      return JSON.stringify(JSON.parse(value), function (k, v) { return k === 'headers' ? null : v; });
    } catch (e) {
      return value;
    }
  }

  function persisting() {
    return window.localStorage.getItem(FLAG) === 'true';
  }

  // write stores value under key, its headers blanked unless persisting.
  function write(key, value) {
    delete held[key];
    if (HOLD_HEADERS.indexOf(key) >= 0 && !persisting()) {
      var b = blank(key, value);
      if (b !== value) {
        held[key] = value;
        value = b;
      }
    }
    window.localStorage.setItem(key, value);
  }

  var storage = {
    getItem: function (key) {
      return Object.prototype.hasOwnProperty.call(held, key) ? held[key] : window.localStorage.getItem(key);
    },
    setItem: function (key, value) {
      if (key !== FLAG) {
        write(key, value);
        return;
      }
      window.localStorage.setItem(FLAG, value);
      if (persisting()) {
        // Turned on: write in full what was held back.
        Object.keys(held).forEach(function (k) { write(k, held[k]); });
        return;
      }
      // Off: blank what is stored.
      HOLD_HEADERS.forEach(function (k) {
        var v = storage.getItem(k);
        if (v !== null) write(k, v);
      });
    },
    removeItem: function (key) {
      delete held[key];
      window.localStorage.removeItem(key);
    },
    clear: function () {
      held = {};
      for (var i = window.localStorage.length - 1; i >= 0; i--) {
        var k = window.localStorage.key(i);
        if (k && k.indexOf('graphiql:') === 0) window.localStorage.removeItem(k);
      }
    },
    get length() {
      return window.localStorage.length;
    },
    key: function (i) {
      return window.localStorage.key(i);
    },
  };

  // GraphiQL 4 sets "Persist headers" to this prop on every load (undefined:
  // off), so pass the user's choice to keep it across reloads.
  var persistHeaders;
  try {
    persistHeaders = persisting() || undefined;
  } catch (e) {
    storage = null; // storage disabled: GraphiQL keeps everything in memory
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({ url: endpoint }),
      defaultQuery: defaultQuery,
      defaultHeaders: defaultHeaders,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: persistHeaders,
      storage: storage,
      inputValueDeprecation: true,
    }),
  );
})();
