/* Renders the API's own OpenAPI document (/api/v1/openapi.json) as a readable page:
   the reference can never drift from what the API serves. No external code. */
(function () {
  "use strict";
  var main = document.getElementById("main");
  var out = document.getElementById("api-reference");
  var status = document.getElementById("api-reference-status");
  var doc;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  /* Descriptions use `code` spans; nothing else from the document becomes markup. */
  function prose(text) {
    var p = el("p");
    String(text || "").split("`").forEach(function (part, i) {
      p.appendChild(i % 2 ? el("code", {}, [part]) : document.createTextNode(part));
    });
    return p;
  }
  function resolve(obj) {
    var guard = 0;
    while (obj && obj.$ref && guard++ < 10) {
      obj = obj.$ref.replace(/^#\//, "").split("/").reduce(function (o, k) { return o && o[k]; }, doc);
    }
    return obj || {};
  }
  function typeOf(schema) {
    schema = schema || {};
    if (schema.$ref) return schema.$ref.split("/").pop();
    var type = Array.isArray(schema.type) ? schema.type.join(" or ") : (schema.type || "object");
    if (schema.enum) type += ": " + schema.enum.join(", ");
    if (schema.minimum !== undefined || schema.maximum !== undefined) {
      type += " (" + (schema.minimum !== undefined ? schema.minimum : "") + "–" +
              (schema.maximum !== undefined ? schema.maximum : "") + ")";
    }
    if (schema.type === "array" && schema.items) type = "array of " + typeOf(schema.items);
    return type;
  }
  function table(head, rows) {
    return el("table", {"class": "stack"}, [
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", {scope: "col"}, [h]); }))]),
      el("tbody", {}, rows.map(function (row) {
        return el("tr", {}, row.map(function (cell, i) {
          return el("td", {"data-label": head[i]}, [cell]);
        }));
      }))
    ]);
  }
  function operation(path, method, op) {
    var section = el("section", {"class": "card", id: op.operationId || (method + path)});
    section.appendChild(el("h3", {}, [el("code", {}, [method.toUpperCase() + " " + path])]));
    if (op.summary) section.appendChild(prose(op.summary));
    if (op.description) section.appendChild(prose(op.description));
    var params = (op.parameters || []).map(resolve);
    if (params.length) {
      section.appendChild(el("h4", {}, ["Parameters"]));
      section.appendChild(table(["Name", "In", "Type", "Description"], params.map(function (p) {
        return [p.name + (p.required ? " (required)" : ""), p.in, typeOf(p.schema), p.description || "—"];
      })));
    }
    var body = op.requestBody && resolve(op.requestBody);
    if (body && body.content) {
      var schema = resolve((body.content["application/json"] || {}).schema);
      section.appendChild(el("h4", {}, ["JSON body"]));
      var required = schema.required || [];
      section.appendChild(table(["Field", "Type", "Description"], Object.keys(schema.properties || {}).map(function (name) {
        var prop = schema.properties[name];
        return [name + (required.indexOf(name) >= 0 ? " (required)" : ""), typeOf(prop), prop.description || "—"];
      })));
    }
    section.appendChild(el("h4", {}, ["Responses"]));
    section.appendChild(table(["Status", "Meaning"], Object.keys(op.responses || {}).map(function (code) {
      return [code, resolve(op.responses[code]).description || "—"];
    })));
    return section;
  }
  function render() {
    out.appendChild(prose(doc.info && doc.info.description));
    var server = (doc.servers && doc.servers[0] && doc.servers[0].url) || "";
    out.appendChild(el("p", {}, ["Base URL: ", el("code", {}, [server]),
      ". Send ", el("code", {}, ["Authorization: Bearer <API token>"]), " with every request."]));
    out.appendChild(el("h2", {}, ["Endpoints"]));
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        if (["get", "post", "patch", "put", "delete"].indexOf(method) >= 0) {
          out.appendChild(operation(path, method, doc.paths[path][method]));
        }
      });
    });
    var schemas = (doc.components && doc.components.schemas) || {};
    out.appendChild(el("h2", {}, ["Objects"]));
    Object.keys(schemas).forEach(function (name) {
      var schema = schemas[name];
      var section = el("section", {"class": "card", id: "schema-" + name}, [el("h3", {}, [name])]);
      if (schema.description) section.appendChild(prose(schema.description));
      if (schema.properties) {
        section.appendChild(table(["Field", "Type", "Description"], Object.keys(schema.properties).map(function (field) {
          var prop = schema.properties[field];
          return [field, typeOf(prop), prop.description || "—"];
        })));
      }
      out.appendChild(section);
    });
    status.textContent = (doc.info && doc.info.title ? doc.info.title + ", version " + doc.info.version : "");
  }
  fetch(main.dataset.openapi, {headers: {Accept: "application/json"}})
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (json) { doc = json; render(); })
    .catch(function (error) { status.textContent = "Could not load the OpenAPI document (" + error.message + ")."; });
})();
