"""The resident's side: writing a tip, its alerts to officers, looking it up later with the
code and passphrase, and answering the police's questions."""

from handlers.conversation.buttons import ForgetChoice, TipsterButton
from handlers.conversation.feature import Feature
from handlers.conversation.turn import StepName
from handlers.tips.answers import answer_text, tipster_button
from handlers.tips.flow import STEPS
from handlers.tips.lookups import (
    LOOKUP_STEPS,
    REMINDERS,
    forget_button,
    forget_command,
    status_command,
)

FEATURE = Feature(
    commands={"status": status_command, "forget": forget_command},
    draft_steps=STEPS,
    side_steps={**LOOKUP_STEPS, StepName.ANSWER: answer_text},
    reminders=REMINDERS,
    buttons={TipsterButton: tipster_button, ForgetChoice: forget_button},
)
