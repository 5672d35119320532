# SPDX-License-Identifier: MIT
"""Sphinx configuration of the axlink reference manual (docs/build.sh runs it).

docs/build.sh stages this folder with the generated CLI reference
(reference/cli.rst, from the built binary's --help) and passes through the
environment: AXLINK_DOXYGEN_XML, Doxygen's XML of include/axlink/*.h for
breathe; PYTHONPATH, the built Python package for autodoc; AXLINK_VERSION.
"""
import os

project = "axlink"
author = "the axlink authors"
copyright = "the axlink authors (MIT)"
version = release = os.environ.get("AXLINK_VERSION", "")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "myst_parser",
    "breathe",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "build.sh", "Doxyfile", "cli_reference.py"]
language = "en"
nitpicky = False

# Markdown pages link to each other's sections (#the-shape-of-a-plugin).
myst_heading_anchors = 3

# Python: members in source order; the type hints in the signatures.
autodoc_member_order = "bysource"
# "Attributes:" sections as fields: the attributes themselves are documented members.
napoleon_use_ivar = True
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "undoc-members": False}
add_module_names = False

# C: the public headers through Doxygen's XML.
breathe_projects = {"axlink": os.environ.get("AXLINK_DOXYGEN_XML", "")}
breathe_default_project = "axlink"
breathe_domain_by_extension = {"h": "c"}
breathe_show_include = True
# The headers' own words for ownership and threads are paragraphs, not tags.
breathe_default_members = ("members",)

html_theme = "alabaster"
html_title = "axlink reference manual"
html_theme_options = {"description": "find servo drives on any bus and drive them",
                      "fixed_sidebar": True}
html_static_path = []
html_show_sourcelink = False


def _repository_file(app, env, node, contnode):
    """A Markdown link to a file of the repository ("../examples/transport-tcp/"),
    which is not a page of the manual, stays its text; any other unresolved
    link is still a warning (and so an error)."""
    # (MyST asks with reftype "any".)
    target = str(node.get("reftarget", ""))
    if node.get("reftype") in ("myst", "any") and target.startswith("../"):
        return contnode
    return None


def setup(app):
    app.connect("missing-reference", _repository_file)
