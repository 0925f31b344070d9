"""The NLU as the app sees it: training Rasa models, running the Rasa server, connecting to it.

Rasa itself runs in its own environment and process (``.venv-nlu``); nothing here imports it.
"""
