// The offline stand-in of actions/github-script: `script` runs as the body of an async function
// of (require, github, context, core, exec, glob, io), as in the real action. `github` knows the
// REST methods of ENDPOINTS (what the templates call; anything else fails loudly, so a template
// that starts using another method shows up here), plus `request` and `paginate`.
"use strict";

const fs = require("fs");

const ENDPOINTS = {
  issues: {
    listForRepo: "GET /repos/{owner}/{repo}/issues",
    get: "GET /repos/{owner}/{repo}/issues/{issue_number}",
    create: "POST /repos/{owner}/{repo}/issues",
    update: "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
    listComments: "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
    createComment: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    updateComment: "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
    addLabels: "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
    listLabelsForRepo: "GET /repos/{owner}/{repo}/labels",
    createLabel: "POST /repos/{owner}/{repo}/labels",
  },
  pulls: {
    get: "GET /repos/{owner}/{repo}/pulls/{pull_number}",
  },
  repos: {
    getCommit: "GET /repos/{owner}/{repo}/commits/{ref}",
  },
};

const apiUrl = (process.env.INPUT_BASE_URL || process.env.GITHUB_API_URL ||
                "https://api.github.com").replace(/\/+$/, "");
const token = process.env.INPUT_GITHUB_TOKEN || "";

class RequestError extends Error {
  constructor(message, status, response) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.response = response;
  }
}

async function request(route, parameters = {}) {
  const [method, template] = route.includes(" ") ? route.split(" ") : ["GET", route];
  const rest = { ...parameters };
  const path = template.replace(/\{(\w+)\}/g, (_, name) => {
    if (!(name in rest)) throw new Error(`${route}: parameter ${name} is required`);
    const value = rest[name];
    delete rest[name];
    return encodeURIComponent(String(value));
  });
  let url = apiUrl + path;
  const init = {
    method,
    headers: {
      accept: "application/vnd.github.v3+json",
      "user-agent": process.env.INPUT_USER_AGENT || "actions/github-script",
      ...(token ? { authorization: `token ${token}` } : {}),
    },
  };
  if (method === "GET" || method === "HEAD") {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) query.set(key, Array.isArray(value) ? value.join(",") : String(value));
    }
    if ([...query].length) url += `?${query}`;
  } else {
    init.headers["content-type"] = "application/json; charset=utf-8";
    init.body = JSON.stringify(rest);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = text;
  try { data = text ? JSON.parse(text) : undefined; } catch (error) { /* not JSON */ }
  const result = { status: response.status, url, headers: Object.fromEntries(response.headers), data };
  if (response.status >= 400) {
    const message = data && typeof data === "object" && data.message ? data.message : text;
    throw new RequestError(`${message} - ${method} ${path}`, response.status, result);
  }
  return result;
}

async function paginate(method, parameters = {}) {
  const items = [];
  for (let page = 1; page <= 50; page += 1) {
    const { data } = await method({ per_page: 100, ...parameters, page });
    const chunk = Array.isArray(data) ? data : [];
    items.push(...chunk);
    if (chunk.length < (parameters.per_page || 100)) break;
  }
  return items;
}

function restClient() {
  const rest = {};
  for (const [namespace, methods] of Object.entries(ENDPOINTS)) {
    rest[namespace] = {};
    for (const [name, route] of Object.entries(methods)) {
      rest[namespace][name] = (parameters) => request(route, parameters);
    }
    rest[namespace] = new Proxy(rest[namespace], {
      get(target, name) {
        if (name in target || typeof name !== "string") return target[name];
        throw new Error(`the github-script stand-in has no github.rest.${namespace}.${name}: ` +
                        "add its route to ENDPOINTS in tests/data/act/github-script");
      },
    });
  }
  return new Proxy(rest, {
    get(target, name) {
      if (name in target || typeof name !== "string") return target[name];
      throw new Error(`the github-script stand-in has no github.rest.${name}`);
    },
  });
}

function readPayload() {
  const path = process.env.GITHUB_EVENT_PATH;
  if (path && fs.existsSync(path)) return JSON.parse(fs.readFileSync(path, "utf8"));
  return {};
}

function makeContext() {
  const payload = readPayload();
  const [owner, repo] = (process.env.GITHUB_REPOSITORY || "/").split("/");
  const number = (payload.issue || payload.pull_request || payload).number;
  return {
    payload,
    eventName: process.env.GITHUB_EVENT_NAME,
    sha: process.env.GITHUB_SHA,
    ref: process.env.GITHUB_REF,
    workflow: process.env.GITHUB_WORKFLOW,
    action: process.env.GITHUB_ACTION,
    actor: process.env.GITHUB_ACTOR,
    job: process.env.GITHUB_JOB,
    runNumber: parseInt(process.env.GITHUB_RUN_NUMBER, 10),
    runId: parseInt(process.env.GITHUB_RUN_ID, 10),
    runAttempt: parseInt(process.env.GITHUB_RUN_ATTEMPT || "1", 10),
    apiUrl,
    serverUrl: process.env.GITHUB_SERVER_URL || "https://github.com",
    graphqlUrl: process.env.GITHUB_GRAPHQL_URL || "https://api.github.com/graphql",
    get repo() { return { owner, repo }; },
    get issue() { return { owner, repo, number }; },
  };
}

function appendCommandFile(variable, name, value) {
  const file = process.env[variable];
  const text = String(value ?? "");
  const delimiter = `ghadelimiter_${Math.random().toString(16).slice(2)}`;
  fs.appendFileSync(file, `${name}<<${delimiter}\n${text}\n${delimiter}\n`);
}

const core = {
  getInput: (name) => (process.env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] || "").trim(),
  setOutput: (name, value) => appendCommandFile("GITHUB_OUTPUT", name, value),
  exportVariable: (name, value) => appendCommandFile("GITHUB_ENV", name, value),
  setSecret: (value) => console.log(`::add-mask::${value}`),
  debug: (message) => console.log(`::debug::${message}`),
  info: (message) => console.log(message),
  notice: (message) => console.log(`::notice::${message}`),
  warning: (message) => console.log(`::warning::${message}`),
  error: (message) => console.log(`::error::${message}`),
  setFailed: (message) => { process.exitCode = 1; console.log(`::error::${message}`); },
};

function unavailable(name) {
  return new Proxy({}, {
    get() { throw new Error(`the github-script stand-in does not provide ${name}`); },
  });
}

async function main() {
  const github = { rest: restClient(), request, paginate };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
  const script = new AsyncFunction("require", "github", "context", "core", "exec", "glob", "io",
                                   process.env.INPUT_SCRIPT || "");
  const result = await script(require, github, makeContext(), core, unavailable("exec"),
                              unavailable("glob"), unavailable("io"));
  const encoding = process.env.INPUT_RESULT_ENCODING || "json";
  const output = encoding === "string" ? String(result ?? "") : JSON.stringify(result);
  core.setOutput("result", output === undefined ? "" : output);
}

main().catch((error) => {
  console.log(error && error.stack ? error.stack : String(error));
  core.setFailed(`Unhandled error: ${error}`);
});
