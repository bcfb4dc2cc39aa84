"""The officers' morning digests: what they say, who gets them when, and /digest."""

from handlers.conversation.buttons import DigestChoice
from handlers.conversation.feature import Feature
from handlers.digests.morning import digest_button, digest_command

FEATURE = Feature(
    officer_commands={"digest": digest_command}, buttons={DigestChoice: digest_button}
)
