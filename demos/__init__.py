"""One module per gallery tab: pure inference functions plus a ``build_tab`` that wires them to Gradio."""
