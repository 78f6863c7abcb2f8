"""Registry domain: pure rules, no I/O.

identifiers (СНИЛС, ИНН, ОГРН, ОГРНИП, КПП), certificate_number, age, certificate (state
machine), provider (types, identifier rules, moderation), program (modules, validation,
certification), transition (new state + event name), errors (codes and messages).
"""
