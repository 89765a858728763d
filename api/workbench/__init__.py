"""The workbench (SPEC section 8): the web page HR staff and legal teams work in, served at ``/``.

Server-rendered pages (Jinja2, autoescaped) in Chinese by default and English on request, a little
JavaScript for what it helps with (the bundle's progress, the print button), no front-end build step.
People sign in with a name and password (``hrledger user create``); a session cookie carries them, never
a token in the page. Everything a person records is an event appended through the same checks as
``POST /v1/events`` (``api.events.append_events``), with ``source`` = ``workbench/<user name>``: the
page adds no second source of truth.

Modules: ``settings`` (the workbench's part of ``AppConfig``), ``sessions`` (sign-in, the cookie,
expiry), ``security`` (CSRF, the Content-Security-Policy and other headers), ``render`` (templates,
languages, Beijing time), ``routes`` (the table of pages, each with its role), ``forms`` (a form posted
becomes an event), the views (``overview``, ``cases``, ``notices``, ``bundles``), and ``context`` (its
cleanup context: the bundle jobs). Its session handling wraps only its own routes: the JSON API never
pays for it.
"""
