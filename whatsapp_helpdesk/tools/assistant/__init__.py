"""The first-line assistant's decisions, as plain functions. No Odoo import.

The models fetch the facts (only the conversation's customer's), these modules decide and word
the answer, the models send it.

* :mod:`.lexicon` and :mod:`.understand`: what a customer's message asks, locally and
  deterministically, in English, Portuguese, Spanish, Chinese and Indonesian (misspellings and
  WhatsApp phrasing included);
* :mod:`.turn`: what to do with it: hand over to a person, answer, show the help menu, stay silent;
* :mod:`.orders`, :mod:`.invoices`, :mod:`.returns`, :mod:`.hours`: the self-service answers,
  values formatted by ``tools.formatting`` in the customer's language;
* :mod:`.phrases`: every sentence in the five languages, and the form of a reply;
* :mod:`.summary`: what the customer asked, for the person taking over;
* :mod:`.llm`: the prompts of an optional language model and the strict reading of its answers
  (``tools.chat_api`` carries them).
"""
