"""Sending every provider its workbook: the mailing list, the letters, drafts and SMTP.

``mailinglist`` reads the audit's ``verzendlijst.csv``; ``plan`` decides per provider what
goes out and what does not (with a Dutch reason); ``letters`` fills in the letters of the
settings' ``[brief]``; ``messages`` builds the e-mails and writes the drafts; ``smtp``
sends them and keeps the log ``verzending/verzonden.jsonl``. Only :mod:`kvcompliance.cli`
prints or prompts.
"""
