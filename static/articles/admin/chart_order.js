'use strict';
// Move stock-chart rows up and down in the post form; positions are renumbered in row order.
{
    function rows(group) {
        return group.querySelectorAll('tr.form-row:not(.empty-form)');
    }

    function renumber(group) {
        rows(group).forEach((row, index) => {
            const position = row.querySelector('input[name$="-position"]');
            if (position) {
                position.value = index;
            }
        });
    }

    document.addEventListener('click', (event) => {
        const button = event.target.closest('button[data-chart-move]');
        if (!button) {
            return;
        }
        event.preventDefault();
        const row = button.closest('tr');
        const up = button.dataset.chartMove === 'up';
        const sibling = up ? row.previousElementSibling : row.nextElementSibling;
        if (!sibling || !sibling.matches('tr.form-row:not(.empty-form)')) {
            return;
        }
        if (up) {
            sibling.before(row);
        } else {
            sibling.after(row);
        }
        renumber(row.closest('.inline-group'));
    });

    document.addEventListener('formset:added', (event) => {
        if (event.detail.formsetName === 'charts') {
            renumber(event.target.closest('.inline-group'));
        }
    });
}
