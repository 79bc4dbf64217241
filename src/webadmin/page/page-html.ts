/** The web admin page's markup: a login form and four views; app.js fills them in. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Turnpike admin</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body data-state="loading">
<section id="login" hidden>
  <h1>Turnpike admin</h1>
  <form id="login-form">
    <label>Admin token <input id="token" type="password" autocomplete="off"></label>
    <p class="or">or an admin user (turnadmin -A)</p>
    <label>User <input id="login-user" autocomplete="username"></label>
    <label>Password <input id="login-password" type="password" autocomplete="current-password"></label>
    <button type="submit" id="login-button">Log in</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
</section>
<section id="app" hidden>
  <header>
    <strong>Turnpike admin</strong>
    <nav>
      <button type="button" data-view="sessions">Sessions</button>
      <button type="button" data-view="traffic">Traffic</button>
      <button type="button" data-view="users">Users and secrets</button>
      <button type="button" data-view="server">Server</button>
    </nav>
    <span id="who"></span>
    <button type="button" id="logout">Log out</button>
  </header>
  <p id="message" role="status"></p>
  <div id="confirm" hidden><span id="confirm-text"></span> <button type="button" id="confirm-yes">Yes</button> <button type="button" id="confirm-no">Cancel</button></div>

  <section id="view-sessions" class="view" hidden>
    <form id="filter">
      <label>User <input id="filter-user"></label>
      <label>Realm <input id="filter-realm"></label>
      <button type="submit">Filter</button>
      <span id="session-count"></span>
    </form>
    <table id="sessions">
      <thead><tr><th>ID</th><th>User</th><th>Realm</th><th>Transport</th><th>Client</th><th>Relay</th><th>Age</th>
      <th>Perm.</th><th>Chan.</th><th>Bytes in / out</th><th>Packets in / out</th><th>Bit rate</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section id="view-traffic" class="view" hidden>
    <h2>Relayed bits per second, last hour</h2>
    <div id="chart-bps" class="chart"></div>
    <h2>Allocations, last hour</h2>
    <div id="chart-allocations" class="chart"></div>
    <div class="columns">
      <div><h2>Top users</h2><table id="top-users"><thead><tr><th>User</th><th>Realm</th><th>Sessions</th><th>Bytes</th><th>Bit rate</th></tr></thead><tbody></tbody></table></div>
      <div><h2>Refusals</h2><table id="refusals"><thead><tr><th>Code</th><th>Reason</th><th>Count</th></tr></thead><tbody></tbody></table></div>
    </div>
  </section>

  <section id="view-users" class="view" hidden>
    <h2>Users</h2>
    <table id="users"><thead><tr><th>User</th><th>Realm</th><th></th></tr></thead><tbody></tbody></table>
    <form id="add-user" data-action="add-user">
      <label>User <input name="user" required></label> <label>Realm <input name="realm" class="realm"></label>
      <label>Password <input name="password" type="password" required autocomplete="new-password"></label>
      <button type="submit">Add or change</button>
    </form>
    <h2>REST secrets</h2>
    <table id="secrets"><thead><tr><th>Secret</th><th>Realm</th><th></th></tr></thead><tbody></tbody></table>
    <form id="add-secret" data-action="add-secret">
      <label>Secret <input name="secret" type="password" required autocomplete="off"></label> <label>Realm <input name="realm" class="realm"></label>
      <button type="submit">Add</button>
    </form>
    <h2>Realm options</h2>
    <table id="realm-options"><thead><tr><th>Realm</th><th>Option</th><th>Value</th></tr></thead><tbody></tbody></table>
    <form id="set-realm-options" data-action="set-realm-options">
      <label>Realm <input name="realm" class="realm"></label> <label>max-bps <input name="max-bps" inputmode="numeric"></label>
      <label>total-quota <input name="total-quota" inputmode="numeric"></label> <label>user-quota <input name="user-quota" inputmode="numeric"></label>
      <button type="submit">Set (0 removes)</button>
    </form>
    <h2>Origins</h2>
    <table id="origins"><thead><tr><th>Origin</th><th>Realm</th><th></th></tr></thead><tbody></tbody></table>
    <form id="add-origin" data-action="add-origin">
      <label>Origin <input name="origin" required></label> <label>Realm <input name="realm" class="realm"></label>
      <button type="submit">Add</button>
    </form>
  </section>

  <section id="view-server" class="view" hidden>
    <dl id="server-info"></dl>
    <p><button type="button" id="reload">Reload configuration</button> <button type="button" id="drain">Drain</button></p>
    <h2>Warnings</h2>
    <ul id="warnings"></ul>
    <h2>Configuration in force</h2>
    <table id="settings"><thead><tr><th>Option</th><th>Value</th><th>From</th></tr></thead><tbody></tbody></table>
  </section>
</section>
</body>
</html>
`;
