"""The bureau's other supervision registers (监管事项, issue 19): registers as data files,
their supervised entities, random inspection plans (双随机一公开), inspection records,
rectification and sanctions, documents and public disclosure. See docs/registers.md."""
