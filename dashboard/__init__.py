"""Streamlit entry point and the UI pieces pages share."""
