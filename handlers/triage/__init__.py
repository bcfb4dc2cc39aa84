"""The officer's side of a tip: lists and views in the chat, the domain actions any interface
calls (status, notes, assignment, questions, duplicates), and exports."""

from handlers.conversation.buttons import OfficerButton
from handlers.conversation.feature import Feature
from handlers.conversation.turn import StepName
from handlers.triage.asking import answer_officer_question
from handlers.triage.chat import (
    answer_close_note,
    answer_duplicate_of,
    answer_note,
    officer_button,
)
from handlers.triage.export import export_tips
from handlers.triage.queue import list_command
from handlers.triage.signin import desk_command

FEATURE = Feature(
    officer_commands={"tips": list_command, "export": export_tips, "desk": desk_command},
    officer_steps={
        StepName.OFFICER_ASK: answer_officer_question,
        StepName.OFFICER_CLOSE: answer_close_note,
        StepName.OFFICER_DUPLICATE: answer_duplicate_of,
        StepName.OFFICER_NOTE: answer_note,
    },
    # Every officer button no other feature claims: a tip's, a list's, or a forged one.
    buttons={OfficerButton: officer_button},
)
