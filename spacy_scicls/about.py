__title__ = "spacy-scicls"
__version__ = "0.1.0"
