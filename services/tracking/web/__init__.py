"""Server-rendered pages: the supervisors' dashboard and the tracers' page (Jinja2, no assets
from the internet: Chart.js is vendored under ``static/vendor``)."""
